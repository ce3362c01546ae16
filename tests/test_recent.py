"""Orders parsed while recording are handed to the same run's push, within a memory bound."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sync_job.domain.orders import parse_order
from sync_job.engine.push import DrainControl, drain
from sync_job.engine.push_types import PushDeps
from sync_job.engine.recent import RecentOrders
from sync_job.engine.record import record_orders
from sync_job.engine.shop import ShopContext
from sync_job.state.store import Store
from tests.factories import BASE_TIME, SETTINGS, SETTLE_SECONDS, order
from tests.fakes import FakeDealpos

CTX = ShopContext("shop1", "cipher", SETTINGS, "realtime")


def test_keeps_the_newest_copy_and_drops_the_oldest_order_when_full() -> None:
    """A newer copy replaces the older one; past the limit the oldest order makes room."""
    recent = RecentOrders(limit=2)
    a, b, c = (parse_order(order(order_id=i)) for i in ("a", "b", "c"))
    recent.remember(a)
    recent.remember(b)
    newer_a = parse_order(order("IN_TRANSIT", order_id="a", update_time=BASE_TIME + 9))
    recent.remember(newer_a)  # "a" is now the newest, so "b" is the oldest
    recent.remember(c)
    assert len(recent) == 2
    assert recent.get("a") == newer_a and recent.get("c") == c
    assert recent.get("b") is None


def test_limit_zero_keeps_nothing() -> None:
    """A zero limit turns the map off (every push reads the snapshot)."""
    recent = RecentOrders(limit=0)
    recent.remember(parse_order(order(order_id="a")))
    assert len(recent) == 0 and recent.get("a") is None


def test_push_reads_back_only_the_orders_the_map_no_longer_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three orders recorded with room for two: one snapshot read, three invoices created."""
    store = Store.open(tmp_path / "s.db", clock=lambda: BASE_TIME)
    recent = RecentOrders(limit=2)
    record_orders(store, CTX, [order(order_id=i) for i in ("1", "2", "3")], recent)
    reads: list[str] = []
    real = store.get_order_raw

    def counted(shop: str, order_id: str) -> dict[str, Any] | None:
        reads.append(order_id)
        return real(shop, order_id)

    monkeypatch.setattr(store, "get_order_raw", counted)
    dealpos = FakeDealpos()
    drain(PushDeps(store, dealpos, CTX, SETTLE_SECONDS), DrainControl(recent=recent))
    assert reads == ["1"]
    assert sorted(dealpos.invoices) == ["TT-1", "TT-2", "TT-3"]


def test_stale_copies_never_enter_the_map(tmp_path: Path) -> None:
    """An older copy that recording skips is not handed to the push either."""
    store = Store.open(tmp_path / "s.db", clock=lambda: BASE_TIME)
    recent = RecentOrders()
    newer = order("IN_TRANSIT", order_id="7", update_time=BASE_TIME + 60)
    record_orders(store, CTX, [newer], recent)
    record_orders(store, CTX, [order("AWAITING_SHIPMENT", order_id="7")], recent)
    cached = recent.get("7")
    assert cached is not None and cached.status == "IN_TRANSIT"
