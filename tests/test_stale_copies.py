"""An older copy of an order with another status: DealPOS untouched, a person is told, counted."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from sync_job.domain.flow import Mode
from sync_job.domain.model import Window
from sync_job.domain.windows import WindowRules
from sync_job.engine.cycle import Cycle, CycleDeps
from sync_job.engine.shop import ShopContext
from sync_job.state.store import Store
from sync_job.tiktok.client import Page
from tests.factories import BASE_TIME, SETTINGS, order
from tests.fakes import FakeDealpos

SHOP = "7495000000000000077"
RULES = WindowRules(overlap=7200, lag=60, max_window=86400, initial_lookback=86400)
NOW = BASE_TIME + 3600


class OneCopy:
    """TikTok serving whichever copy of the orders the test put there last."""

    def __init__(self) -> None:
        self.orders: list[dict[str, Any]] = []

    def iter_orders(self, shop_cipher: str, window: Window) -> Iterator[Page]:
        """One page with every order (the windows are wide enough here)."""
        yield Page(list(self.orders), 1, len(self.orders))

    def iter_returns(self, shop_cipher: str, window: Window) -> Iterator[Page]:
        """No returns."""
        yield Page([], 1, 0)

    def fetch_orders(self, shop_cipher: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Not needed without returns."""
        return []


def run(store: Store, tiktok: OneCopy, dealpos: FakeDealpos, mode: Mode) -> dict[str, Any]:
    """One cycle (a backfill-like fixed window in download mode); return its summary counts."""
    deps = CycleDeps(
        store, tiktok, dealpos, RULES, create_settle_seconds=60.0, clock=lambda: float(NOW)
    )
    windows = {"orders": [Window(NOW - 7200, NOW)], "returns": [Window(NOW - 7200, NOW)]}
    shop = ShopContext(SHOP, "cipher", SETTINGS, mode)
    cycle = Cycle(deps, shop, range_windows=windows if mode == "download" else None)
    result = cycle.run()
    assert result.status == "ok", result.error
    return result.counts


@pytest.mark.parametrize("mode", ["realtime", "download"])
def test_older_copy_with_another_status_raises_attention_and_counts_stale(
    tmp_path: Path, mode: Mode
) -> None:
    """IN_TRANSIT recorded, then an older CANCELLED copy: no delete, an item naming both."""
    store = Store.open(tmp_path / "sync.db", clock=lambda: float(NOW))
    tiktok, dealpos = OneCopy(), FakeDealpos()
    newer = order("IN_TRANSIT", update_time=BASE_TIME + 600)
    tiktok.orders = [newer]
    assert run(store, tiktok, dealpos, mode)["stale"] == 0
    tiktok.orders = [{**newer, "status": "CANCELLED", "update_time": BASE_TIME + 300}]
    counts = run(store, tiktok, dealpos, mode)
    assert counts["stale"] == 1
    assert dealpos.calls == ["create"]  # the older copy changed nothing in DealPOS
    [item] = store.open_attention(SHOP)
    assert item["kind"] == "stale" and item["order_id"] == newer["id"]
    for text in ("CANCELLED", "IN_TRANSIT", "2025-11-24 16:05:00 UTC", "2025-11-24 16:10:00 UTC"):
        assert text in item["message"]


def test_older_copy_with_the_same_status_is_counted_but_raises_nothing(tmp_path: Path) -> None:
    """An older copy that agrees on the status is only stale: no work item for anyone."""
    store = Store.open(tmp_path / "sync.db", clock=lambda: float(NOW))
    tiktok, dealpos = OneCopy(), FakeDealpos()
    newer = order("IN_TRANSIT", update_time=BASE_TIME + 600)
    tiktok.orders = [newer]
    run(store, tiktok, dealpos, "realtime")
    tiktok.orders = [{**newer, "update_time": BASE_TIME + 300}]
    assert run(store, tiktok, dealpos, "realtime")["stale"] == 1
    assert store.open_attention(SHOP) == []
