"""The daemon runs the verifies asked for on the operator page through `verify_shops`, once."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sync_job.service.config import ShopConfig
from sync_job.service.verifying import PAGE, run_requested_verifies
from sync_job.state.store import Store
from sync_job.state.verify_requests import pending_verify_requests, request_verify


class FakeApp:
    """What run_requested_verifies uses of an App: the store and the configured shops."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def shops(self, shop_id: str | None) -> list[ShopConfig]:
        """One configured shop."""
        return [ShopConfig("shop1", "c", "Online Store")]


def test_requested_verifies_run_once_through_verify_shops(tmp_path: Path) -> None:
    """Each request becomes verify_shops(app, day, day, shop, trigger="page"), then is gone;
    a request for a shop no longer configured is dropped without a verify."""
    store = Store.open(tmp_path / "sync.db")
    request_verify(store, "shop1", date(2026, 11, 29), 1.0)
    request_verify(store, "gone", date(2026, 11, 29), 2.0)
    calls: list[tuple[Any, ...]] = []

    def fake_verify(app: Any, first: date, last: date, shop_id: str, **kw: Any) -> list[Any]:
        calls.append((first, last, shop_id, kw))
        return []

    run_requested_verifies(FakeApp(store), fake_verify)  # type: ignore[arg-type]
    assert calls == [(date(2026, 11, 29), date(2026, 11, 29), "shop1", {"trigger": PAGE})]
    assert pending_verify_requests(store) == []
    run_requested_verifies(FakeApp(store), fake_verify)  # type: ignore[arg-type]
    assert len(calls) == 1
    store.close()
