"""Gathering a shop's verify from a real state file, and `--repair` planning through the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sync_job.domain.errors import TransientError
from sync_job.domain.flow import InvoiceState
from sync_job.engine.push import DrainControl, drain
from sync_job.engine.push_types import PushDeps
from sync_job.engine.record import record_orders
from sync_job.engine.shop import ShopContext
from sync_job.engine.verify_repair import repair, resolve_gone
from sync_job.engine.verify_shop import verify_shop
from sync_job.state.store import Store
from sync_job.state.verifications import VerifyRecord, last_verify, record_verify, verified_day
from tests.factories import BASE_TIME, SETTINGS, line, order
from tests.fakes import FakeDealpos

CTX = ShopContext("shop1", "cipher", SETTINGS, "realtime")
DAY = date(2025, 11, 24)  # BASE_TIME - 300 (the factory's paid_time) in Asia/Jakarta


@dataclass(frozen=True)
class Row:
    """A list row as the DealPOS client types it."""

    id: str
    number: str
    reference: str
    amount: Decimal | None
    payment: str
    delivery: str
    status: str

    def state(self) -> InvoiceState:
        """The row's state as the client reads it."""
        if self.status == "Cancelled":
            return InvoiceState("recycled")
        sent = self.delivery in ("Sent", "Returned")
        return InvoiceState(
            "active", "Sent" if sent else "Unsent", "Paid" if self.payment == "Paid" else "Unpaid"
        )


class Lister:
    """The invoice list over FakeDealpos's invoices, in pages, counting its calls."""

    def __init__(self, dealpos: FakeDealpos, amounts: dict[str, Decimal]) -> None:
        self.dealpos, self.amounts, self.calls = dealpos, amounts, 0
        self.fail: Exception | None = None

    def list_invoices(
        self,
        outlet: str,
        tag: str,
        start_date: str,
        end_date: str,
        page_number: int,
        page_size: int = 100,
    ) -> list[Row]:
        """One page of every invoice."""
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        rows = [self._row(inv) for inv in self.dealpos.invoices.values()]
        return rows[(page_number - 1) * page_size : page_number * page_size]

    def _row(self, inv: dict[str, Any]) -> Row:
        amount = self.amounts.get(inv["Number"], Decimal("150000"))
        return Row(
            inv["ID"],
            inv["Number"],
            inv["ReferenceNumber"],
            amount,
            inv["PaymentStatus"],
            inv["FulfillmentStatus"],
            inv["Status"],
        )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh state database in a real file."""
    s = Store.open(tmp_path / "sync.db", clock=lambda: BASE_TIME)
    yield s
    s.close()


def push(store: Store, dealpos: FakeDealpos) -> None:
    """Drain the outbox once, never sleeping."""
    drain(PushDeps(store, dealpos, CTX, 60.0), DrainControl(sleep=lambda s: None))


def mirror(store: Store, dealpos: FakeDealpos, *orders: dict[str, Any]) -> None:
    """Record the orders and push them, as a run does."""
    record_orders(store, CTX, list(orders))
    push(store, dealpos)


def test_a_clean_mirror_has_no_findings_and_costs_the_list_only(store: Store) -> None:
    """Two orders mirrored: two checked, two seen, nothing found, one list call."""
    dp = FakeDealpos()
    mirror(store, dp, order(), order("IN_TRANSIT"))
    lister = Lister(dp, {})
    result = verify_shop(store, lister, CTX, DAY, DAY, calls=lambda: lister.calls)
    assert (result.orders, result.invoices, result.findings) == (2, 2, [])
    assert result.dealpos_calls == 1 and result.error is None


def test_orders_outside_the_range_are_not_checked(store: Store) -> None:
    """An order paid the day before is not expected (its invoice, listed, is still explained)."""
    dp = FakeDealpos()
    early = order(paid_time=BASE_TIME - 86400 * 2)
    mirror(store, dp, early, order())
    result = verify_shop(store, Lister(dp, {}), CTX, DAY, DAY)
    assert result.orders == 1 and result.findings == []


def test_drift_of_each_kind_is_found(store: Store) -> None:
    """Erased, paid by hand, amount changed, typed by hand twice, and one order still queued."""
    dp = FakeDealpos()
    a, b, c, d = order(), order(), order(), order()
    mirror(store, dp, a, b, c, d)
    del dp.invoices[f"TT-{a['id']}"]
    dp.invoices[f"TT-{b['id']}"]["PaymentStatus"] = "Paid"
    dp.put_invoice("hand-1", reference=c["id"])
    dp.put_invoice("hand-2", reference="424242")
    queued = order()
    record_orders(store, CTX, [queued])  # planned, not pushed
    lister = Lister(dp, {f"TT-{d['id']}": Decimal("140000")})
    found = {(f.kind, f.order_id) for f in verify_shop(store, lister, CTX, DAY, DAY).findings}
    assert found == {
        ("missing", a["id"]),
        ("state", b["id"]),
        ("duplicate", c["id"]),
        ("total", d["id"]),
        ("unexpected", "424242"),
        ("pending", queued["id"]),
    }


def test_lines_cancelled_after_the_invoice_leave_the_total_unchecked(store: Store) -> None:
    """The partial cancel has its own attention item; the old amount is no total finding."""
    dp = FakeDealpos()
    o = order(lines=[line(), line(sku="SKU-B")])
    mirror(store, dp, o)
    later = {
        **o,
        "update_time": BASE_TIME + 60,
        "line_items": [o["line_items"][0], {**o["line_items"][1], "display_status": "CANCELLED"}],
    }
    record_orders(store, CTX, [later])
    lister = Lister(dp, {f"TT-{o['id']}": Decimal("300000")})
    assert verify_shop(store, lister, CTX, DAY, DAY).findings == []


def test_the_list_is_read_page_by_page_and_stops_at_a_short_page(store: Store) -> None:
    """250 invoices: pages of 100, 100 and 50, so three calls and none past the end."""
    dp = FakeDealpos()
    orders = [order() for _ in range(250)]
    record_orders(store, CTX, orders)
    push(store, dp)
    lister = Lister(dp, {})
    result = verify_shop(store, lister, CTX, DAY, DAY, calls=lambda: lister.calls)
    assert (result.invoices, result.findings, result.dealpos_calls) == (250, [], 3)


def test_a_failing_list_is_reported_not_raised(store: Store) -> None:
    """DealPOS down: the result carries the error and no findings."""
    lister = Lister(FakeDealpos(), {})
    lister.fail = TransientError("DealPOS answered 503")
    result = verify_shop(store, lister, CTX, DAY, DAY)
    assert result.error == "DealPOS answered 503" and result.findings == []


def test_repair_plans_fixable_findings_and_raises_attention_for_the_rest(store: Store) -> None:
    """Missing → a create in the outbox; paid by hand → an attention item; the push re-creates."""
    dp = FakeDealpos()
    a, b = order(), order()
    mirror(store, dp, a, b)
    del dp.invoices[f"TT-{a['id']}"]
    dp.invoices[f"TT-{b['id']}"]["PaymentStatus"] = "Paid"
    result = verify_shop(store, Lister(dp, {}), CTX, DAY, DAY)
    repair(store, CTX, result)
    assert (result.repaired, result.raised) == (1, 1)
    assert [r.action.kind for r in store.get_outbox_for_order("shop1", a["id"])] == ["create"]
    items = store.open_attention("shop1")
    assert [(i["kind"], i["order_id"]) for i in items] == [("verify_state", b["id"])]
    dp.calls.clear()
    push(store, dp)
    assert dp.calls == ["create"]
    after = verify_shop(store, Lister(dp, {}), CTX, DAY, DAY)
    assert [(f.kind, f.order_id) for f in after.findings] == [("state", b["id"])]


def test_repair_deletes_a_restored_invoice_it_made(store: Store) -> None:
    """A cancelled order's invoice restored from the recycle bin goes back through a delete."""
    dp = FakeDealpos()
    o = order()
    mirror(store, dp, o)
    mirror(store, dp, {**o, "status": "CANCELLED", "update_time": BASE_TIME + 60})
    dp.invoices[f"TT-{o['id']}"]["Status"] = "Active"  # a person restored it
    result = verify_shop(store, Lister(dp, {}), CTX, DAY, DAY)
    assert [(f.kind, f.fixable) for f in result.findings] == [("state", True)]
    repair(store, CTX, result)
    assert [r.action.kind for r in store.get_outbox_for_order("shop1", o["id"])] == ["delete"]


def test_verify_results_are_stored_and_read_back(store: Store) -> None:
    """The newest record per shop (and per trigger) comes back whole."""
    base = dict(
        shop_id="shop1",
        first_day="2025-11-24",
        last_day="2025-11-24",
        started_at="t0",
        finished_at="t1",
        status="ok",
    )
    record_verify(store, VerifyRecord(trigger="daily", **base, findings={"missing": 2}))  # type: ignore[arg-type]
    record_verify(store, VerifyRecord(trigger="command", **base, orders=5))  # type: ignore[arg-type]
    newest = last_verify(store, "shop1")
    assert newest is not None and (newest.trigger, newest.orders) == ("command", 5)
    daily = last_verify(store, "shop1", "daily")
    assert daily is not None and daily.findings == {"missing": 2}
    assert verified_day(store, "shop1", "2025-11-24", "daily")
    assert not verified_day(store, "shop1", "2025-11-23", "daily")
    assert last_verify(store, "shop2") is None


def test_a_later_verify_resolves_attention_for_drift_that_is_gone(store: Store) -> None:
    """A person fixed the invoice by hand: the next verify closes the item it had raised."""
    dp = FakeDealpos()
    a, b = order(), order()
    mirror(store, dp, a, b)
    dp.invoices[f"TT-{a['id']}"]["PaymentStatus"] = "Paid"
    dp.invoices[f"TT-{b['id']}"]["PaymentStatus"] = "Paid"
    repair(store, CTX, verify_shop(store, Lister(dp, {}), CTX, DAY, DAY))
    assert len(store.open_attention("shop1")) == 2
    dp.invoices[f"TT-{a['id']}"]["PaymentStatus"] = "Unpaid"  # fixed by hand
    again = verify_shop(store, Lister(dp, {}), CTX, DAY, DAY)
    resolve_gone(store, "shop1", again)
    assert again.resolved == 1
    assert [i["order_id"] for i in store.open_attention("shop1")] == [b["id"]]
    other_day = verify_shop(
        store, Lister(FakeDealpos(), {}), CTX, date(2025, 1, 1), date(2025, 1, 1)
    )
    resolve_gone(store, "shop1", other_day)  # it did not look at b: b's item stays
    assert other_day.resolved == 0 and len(store.open_attention("shop1")) == 1
