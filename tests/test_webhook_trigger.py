"""The webhook trigger against both simulators: batched detail calls, record, push, inbox states."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync_job.domain.notification import Notification
from sync_job.sandbox.faults import Fault
from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.service.app import App
from sync_job.service.config import load_config
from sync_job.state import inbox
from sync_job.state.inbox import InboxWriter
from sync_job.state.locks import ShopLock
from tests.e2e.conftest import SECRETS, SHOP, Sandbox, past_clock, running_sandbox

DETAIL = "GET /order/202309/orders"


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    """Fault-free simulators and a config for them."""
    with running_sandbox(tmp_path) as sandbox:
        yield sandbox


@pytest.fixture
def app(box: Sandbox) -> Iterator[App]:
    """The App the daemon would build from that config."""
    opened = App.open(load_config(box.config_path, env=SECRETS), sleep=lambda s: None)
    yield opened
    opened.close()


def notify(box: Sandbox, order_ids: list[str], *, shop: str = SHOP, start: int = 0) -> None:
    """Store one notification per order id, as the receiver would."""
    writer = InboxWriter.open(box.state_path)
    try:
        for n, order_id in enumerate(order_ids, start=start):
            writer.store(Notification(f"n-{n}", 1, shop, 1_767_225_600, order_id))
    finally:
        writer.close()


def outcomes(app: App) -> dict[str | None, int]:
    """How many stored notifications ended how (None: still waiting)."""
    rows = app.store.db.execute("SELECT outcome, COUNT(*) FROM webhook_inbox GROUP BY outcome")
    return {outcome: n for outcome, n in rows}


def test_notified_orders_are_fetched_50_a_call_recorded_and_pushed(box: Sandbox, app: App) -> None:
    """120 notifications (110 orders, some twice) → 3 detail calls, 110 invoices, cursors kept."""
    gen = LifecycleGenerator(box.tiktok, SHOP, seed=4, clock=past_clock, unknown_sku_share=0)
    ids = gen.bulk_create(110)
    notify(box, ids + ids[:10])
    results = app.run_inbox()
    assert [r.status for r in results] == ["ok"]
    assert box.tiktok.calls.count(DETAIL) == 3
    assert len(box.dealpos.active_by_reference()) == 110
    assert outcomes(app) == {"pushed": 120}
    assert app.store.get_cursor(SHOP, "orders") is None  # polling's cursors are untouched
    assert app.run_inbox() == []  # nothing left: no call
    assert box.tiktok.calls.count(DETAIL) == 3


def test_the_fetched_copy_decides_not_the_notification(box: Sandbox, app: App) -> None:
    """An order cancelled before any invoice existed: fetched as CANCELLED, nothing created."""
    gen = LifecycleGenerator(box.tiktok, SHOP, seed=5, clock=past_clock)
    paid, cancelled = gen.bulk_create(1)[0], gen.new_order(status="UNPAID")
    order = box.tiktok.order(SHOP, cancelled)
    assert order is not None
    box.tiktok.put_order(SHOP, {**order, "status": "CANCELLED"})
    notify(box, [paid, cancelled])
    app.run_inbox()
    assert set(box.dealpos.active_by_reference()) == {paid}


def test_a_shop_held_by_another_run_keeps_its_notifications_for_the_next_round(
    box: Sandbox, app: App
) -> None:
    """The single-flight lease rules: busy → nothing fetched, the notifications wait."""
    gen = LifecycleGenerator(box.tiktok, SHOP, seed=6, clock=past_clock, unknown_sku_share=0)
    notify(box, gen.bulk_create(3))
    other = ShopLock(app.store, SHOP, "realtime:other-run")
    other.acquire()
    assert [r.status for r in app.run_inbox()] == ["busy"]
    assert box.tiktok.calls.count(DETAIL) == 0
    assert outcomes(app) == {None: 3}
    other.release()
    assert [r.status for r in app.run_inbox()] == ["ok"]
    assert len(box.dealpos.active_by_reference()) == 3


def test_failed_rounds_are_retried_then_left_to_polling(box: Sandbox, app: App) -> None:
    """TikTok failing: the notification waits; after five failed rounds polling takes over."""
    gen = LifecycleGenerator(box.tiktok, SHOP, seed=7, clock=past_clock)
    notify(box, gen.bulk_create(1))
    box.tiktok.faults.queue(Fault.SERVER_ERROR, times=1000, endpoint=DETAIL)
    for _ in range(4):
        assert [r.status for r in app.run_inbox()] == ["failed"]
    assert outcomes(app) == {None: 1}
    app.run_inbox()
    assert outcomes(app) == {"gave_up": 1}
    assert app.run_inbox() == []


def test_notifications_of_shops_not_configured_and_without_orders_are_ignored(
    box: Sandbox, app: App
) -> None:
    """A row with no order to fetch, or of a shop no longer configured: worked off, no call."""
    writer = InboxWriter.open(box.state_path)
    writer.store(Notification("n-a", 4, SHOP, None, None))
    writer.store(Notification("n-b", 1, "7495000000000000000", None, "576001"))
    writer.close()
    assert app.run_inbox() == []
    assert outcomes(app) == {"ignored": 2}
    assert box.tiktok.calls.count(DETAIL) == 0


def test_health_reports_counts_backlog_and_lag(box: Sandbox, app: App) -> None:
    """After a pushed round the lag is TikTok's timestamp → the push, the backlog empty."""
    gen = LifecycleGenerator(box.tiktok, SHOP, seed=8, clock=past_clock, unknown_sku_share=0)
    notify(box, gen.bulk_create(2))
    assert inbox.webhook_health(app.store.db)["pending"] == 2
    app.run_inbox()
    health = inbox.webhook_health(app.store.db)
    assert (health["received"], health["pending"]) == (2, 0)
    assert health["lag_seconds"] is not None and health["lag_seconds"] > 0
