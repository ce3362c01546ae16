"""Recording pages and draining the outbox, on a real SQLite file with an in-memory DealPOS."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sync_job.domain.errors import OutcomeUnknown, TransientError
from sync_job.domain.flow import InvoiceState
from sync_job.engine.push import DrainControl, drain
from sync_job.engine.push_types import PushDeps, PushTally
from sync_job.engine.record import record_orders, record_returns
from sync_job.engine.shop import ShopContext
from sync_job.state.ledger import LedgerRow
from sync_job.state.store import Store
from tests.factories import BASE_TIME, SETTINGS, SETTLE_SECONDS, line, order, ret
from tests.fakes import FakeDealpos

REALTIME = ShopContext("shop1", "cipher", SETTINGS, "realtime")
DOWNLOAD = ShopContext("shop1", "cipher", SETTINGS, "download")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh state database in a real file."""
    return Store.open(tmp_path / "state" / "sync.db", clock=lambda: BASE_TIME)


def push(store: Store, dealpos: FakeDealpos, shop: ShopContext = REALTIME) -> PushTally:
    """Drain the outbox once, never sleeping."""
    return drain(PushDeps(store, dealpos, shop, SETTLE_SECONDS), DrainControl(sleep=lambda s: None))


def invoice(dealpos: FakeDealpos, order_id: str) -> dict[str, Any]:
    """The fake DealPOS's invoice for an order."""
    return dealpos.invoices[f"TT-{order_id}"]


def test_state_file_and_folder_are_private(tmp_path: Path) -> None:
    """The state file is created 0600 inside a 0700 folder."""
    path = tmp_path / "private" / "sync.db"
    Store.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_seed_flow_one_paid_then_sent_then_completed(store: Store) -> None:
    """Paid → invoice Unsent+Unpaid; courier pick-up → Sent; completed stays Unpaid in real time."""
    dp = FakeDealpos()
    o = order("AWAITING_SHIPMENT")
    record_orders(store, REALTIME, [o])
    push(store, dp)
    assert invoice(dp, o["id"])["FulfillmentStatus"] == "Unsent"
    record_orders(store, REALTIME, [{**o, "status": "IN_TRANSIT", "update_time": BASE_TIME + 60}])
    push(store, dp)
    record_orders(store, REALTIME, [{**o, "status": "COMPLETED", "update_time": BASE_TIME + 120}])
    push(store, dp)
    inv = invoice(dp, o["id"])
    assert (inv["FulfillmentStatus"], inv["PaymentStatus"]) == ("Sent", "Unpaid")
    assert dp.calls == ["create", "send"]


def test_unpaid_orders_make_no_invoice_and_no_call(store: Store) -> None:
    """UNPAID → nothing in DealPOS, not a single call."""
    dp = FakeDealpos()
    record_orders(store, REALTIME, [order("UNPAID")])
    push(store, dp)
    assert dp.calls == []


def test_first_seen_late_is_created_directly_in_its_state(store: Store) -> None:
    """An order first seen COMPLETED in a download is created Sent + Paid in one call."""
    dp = FakeDealpos()
    o = order("COMPLETED", lines=[line("A", "100"), line("A", "100", "10")])
    record_orders(store, DOWNLOAD, [o])
    push(store, dp, DOWNLOAD)
    assert dp.calls == ["create"]
    inv = invoice(dp, o["id"])
    assert (inv["FulfillmentStatus"], inv["PaymentStatus"]) == ("Sent", "Paid")
    assert str(inv["body"]["Payments"][0]["Amount"]) == "190"


def test_backfill_settles_completed_orders_already_mirrored(store: Store) -> None:
    """A download run pays a COMPLETED invoice that real time left Unpaid: one call."""
    dp = FakeDealpos()
    o = order("COMPLETED")
    record_orders(store, REALTIME, [o])
    push(store, dp)
    record_orders(store, DOWNLOAD, [o])  # the same copy, re-read by a backfill
    push(store, dp, DOWNLOAD)
    assert dp.calls == ["create", "pay"]
    assert invoice(dp, o["id"])["PaymentStatus"] == "Paid"


def test_cancel_before_and_after_the_invoice(store: Store) -> None:
    """Cancelled before payment: nothing; cancelled after the invoice: one delete → recycle bin."""
    dp = FakeDealpos()
    before, after = order("UNPAID"), order("AWAITING_SHIPMENT")
    record_orders(store, REALTIME, [before, after])
    push(store, dp)
    later = BASE_TIME + 60
    record_orders(
        store,
        REALTIME,
        [
            {**before, "status": "CANCELLED", "update_time": later},
            {**after, "status": "CANCELLED", "update_time": later},
        ],
    )
    push(store, dp)
    assert dp.calls == ["create", "delete"]
    assert invoice(dp, after["id"])["Status"] == "Cancelled"
    assert f"TT-{before['id']}" not in dp.invoices


def test_changes_before_the_push_coalesce(store: Store) -> None:
    """Paid then cancelled before any push: the pending create is dropped, zero calls."""
    dp = FakeDealpos()
    o = order("AWAITING_SHIPMENT")
    record_orders(store, REALTIME, [o])
    record_orders(store, REALTIME, [{**o, "status": "CANCELLED", "update_time": BASE_TIME + 5}])
    push(store, dp)
    assert dp.calls == []


def test_stale_and_repeated_copies_change_nothing(store: Store) -> None:
    """An older copy is ignored; the same copy again is free (overlap re-reads)."""
    dp = FakeDealpos()
    o = order("IN_TRANSIT", update_time=BASE_TIME + 100)
    record_orders(store, REALTIME, [o])
    push(store, dp)
    tally = record_orders(
        store, REALTIME, [o, {**o, "status": "AWAITING_SHIPMENT", "update_time": BASE_TIME}]
    )
    push(store, dp)
    assert (tally.changed, tally.stale) == (0, 1)
    assert dp.calls == ["create"]


def test_return_makes_sent_paid_and_raises_attention(store: Store) -> None:
    """A return → invoice Sent + Paid and an attention item; withdrawing it resolves the item."""
    dp = FakeDealpos()
    o = order("DELIVERED")
    record_orders(store, REALTIME, [o])
    push(store, dp)
    record_returns(store, REALTIME, [ret(o["id"], return_id="r1")], lambda ids: [])
    push(store, dp)
    assert invoice(dp, o["id"])["PaymentStatus"] == "Paid"
    items = store.open_attention("shop1")
    assert [i["kind"] for i in items] == ["return"]
    assert "return/refund r1 on order" in items[0]["message"]
    withdrawn = ret(
        o["id"], "RETURN_OR_REFUND_REQUEST_CANCEL", return_id="r1", update_time=BASE_TIME + 500
    )
    record_returns(store, REALTIME, [withdrawn], lambda ids: [])
    assert store.open_attention("shop1") == []


def test_return_for_an_unseen_order_fetches_it(store: Store) -> None:
    """A return whose order was never recorded fetches the order and creates it Sent + Paid."""
    dp = FakeDealpos()
    o = order("DELIVERED")
    asked: list[list[str]] = []
    record_returns(store, REALTIME, [ret(o["id"])], lambda ids: asked.append(ids) or [o])  # type: ignore[func-returns-value]
    push(store, dp)
    assert asked == [[o["id"]]]
    assert dp.calls == ["create"]
    assert invoice(dp, o["id"])["PaymentStatus"] == "Paid"


def test_malformed_order_is_quarantined_and_the_page_goes_on(store: Store) -> None:
    """A bad order gets an attention item; the good ones in the same page are mirrored."""
    dp = FakeDealpos()
    good = order("AWAITING_SHIPMENT")
    bad = order("AWAITING_SHIPMENT", lines=[line(price="not-a-number")])
    tally = record_orders(store, REALTIME, [bad, good, None, "junk"])
    push(store, dp)
    assert tally.bad == 3
    assert dp.calls == ["create"]
    kinds = {i["kind"] for i in store.open_attention("shop1")}
    assert kinds == {"bad_order"}


def test_rejected_create_is_quarantined_and_retry_redrives_it(store: Store) -> None:
    """An unknown SKU quarantines that order only, with DealPOS's message; retry re-drives it."""
    dp = FakeDealpos(known_skus={"A"})
    bad, good = order(lines=[line("ZZZ")]), order(lines=[line("A")])
    record_orders(store, REALTIME, [bad, good])
    tally = push(store, dp)
    assert tally.quarantined == 1 and tally.created == 1
    assert "Variant code 'ZZZ' not found" in store.open_attention("shop1")[0]["message"]
    assert store.outbox_counts("shop1")["quarantined"] == 1
    push(store, dp)
    assert dp.calls.count("create") == 2  # not retried without `retry`
    dp.known_skus = {"A", "ZZZ"}
    assert store.requeue_quarantined(None, bad["id"]) == 1
    push(store, dp)
    assert f"TT-{bad['id']}" in dp.invoices


def test_a_refused_virtual_bundle_says_dealpos_needs_a_composite_variant(store: Store) -> None:
    """A bundle line carries the bundle's own SKU: the attention item says what DealPOS needs."""
    dp = FakeDealpos(known_skus={"A"})
    bundle = {**line("GIFTSET"), "combined_listing_skus": [{"seller_sku": "A", "sku_count": 2}]}
    record_orders(store, REALTIME, [order(lines=[bundle, line("A")])])
    push(store, dp)
    message = store.open_attention("shop1")[0]["message"]
    assert "Variant code 'GIFTSET' not found" in message
    assert "GIFTSET is a TikTok virtual bundle (A x2)" in message
    assert "Composite variant with code GIFTSET" in message


def test_lost_create_answer_is_looked_up_before_repeating(store: Store) -> None:
    """A create applied but unanswered is found by number: no second create, no duplicate."""
    dp = FakeDealpos()
    o = order("AWAITING_SHIPMENT")
    dp.script["create"].append((OutcomeUnknown("read timed out"), True))
    record_orders(store, REALTIME, [o])
    push(store, dp)
    assert dp.calls == ["create", "find"]
    assert store.get_ledger("shop1", o["id"]).state == InvoiceState("active")  # type: ignore[union-attr]
    assert store.outbox_counts("shop1") == {"pending": 0, "in_flight": 0, "quarantined": 0}


def test_lost_create_not_applied_is_repeated_after_lookup(store: Store) -> None:
    """A create that never reached DealPOS is looked up (absent) and then made once."""
    dp = FakeDealpos()
    o = order("AWAITING_SHIPMENT")
    dp.script["create"].append((OutcomeUnknown("connection dropped"), False))
    record_orders(store, REALTIME, [o])
    push(store, dp)
    assert dp.calls == ["create", "find", "create"]
    assert len(dp.invoices) == 1


def test_duplicate_409_adopts_the_existing_invoice(store: Store) -> None:
    """A 409 on create adopts the invoice already there (same ReferenceNumber)."""
    dp = FakeDealpos()
    o = order("IN_TRANSIT")
    dp.put_invoice(o["id"])
    record_orders(store, REALTIME, [o])
    push(store, dp)
    # Adopted, then the missing step (send) is planned and made: the order ends Sent.
    assert dp.calls == ["create", "find", "send"]
    assert invoice(dp, o["id"])["FulfillmentStatus"] == "Sent"


def test_lost_send_answer_is_checked_not_quarantined(store: Store) -> None:
    """A send applied but unanswered, repeated → DealPOS says 'already Sent' → look → done."""
    dp = FakeDealpos()
    o = order("AWAITING_SHIPMENT")
    record_orders(store, REALTIME, [o])
    push(store, dp)
    dp.script["send"].append((OutcomeUnknown("read timed out"), True))
    record_orders(store, REALTIME, [{**o, "status": "IN_TRANSIT", "update_time": BASE_TIME + 9}])
    tally = push(store, dp)
    assert dp.calls == ["create", "send", "find"]
    assert tally.quarantined == 0 and tally.adopted == 1


def test_transient_failures_retry_then_leave_pending(store: Store) -> None:
    """429s are retried with backoff; still failing at the end → left pending, not quarantined."""
    dp = FakeDealpos()
    o = order("AWAITING_SHIPMENT")
    dp.script["create"].extend([(TransientError("429", retry_after=7), False)] * 5)
    slept: list[float] = []
    record_orders(store, REALTIME, [o])
    drain(PushDeps(store, dp, REALTIME, SETTLE_SECONDS), DrainControl(sleep=slept.append))
    assert dp.calls == ["create"] * 5
    assert all(s >= 7 for s in slept) and len(slept) == 4
    assert store.outbox_counts("shop1")["pending"] == 1
    push(store, dp)
    assert f"TT-{o['id']}" in dp.invoices


def test_crash_between_call_and_mark_is_verified_on_restart(store: Store) -> None:
    """An in-flight row left by a crash is looked up before anything is repeated."""
    dp = FakeDealpos()
    o = order("AWAITING_SHIPMENT")
    record_orders(store, REALTIME, [o])
    row = store.get_outbox_for_order("shop1", o["id"])[0]
    store.mark_in_flight(row.id)  # the crash: call made, answer never recorded
    dp.put_invoice(o["id"])  # the create that did land
    push(store, dp)
    assert dp.calls == ["find"]


def test_partial_cancel_after_invoice_raises_attention(store: Store) -> None:
    """A line cancelled after the invoice was made → attention item naming the SKU; no call."""
    dp = FakeDealpos()
    o = order("AWAITING_SHIPMENT", lines=[line("A"), line("B")])
    record_orders(store, REALTIME, [o])
    push(store, dp)
    changed = {
        **o,
        "update_time": BASE_TIME + 30,
        "line_items": [o["line_items"][0], {**o["line_items"][1], "display_status": "CANCELLED"}],
    }
    record_orders(store, REALTIME, [changed])
    push(store, dp)
    assert dp.calls == ["create"]
    items = store.open_attention("shop1")
    assert [i["kind"] for i in items] == ["partial_cancel"] and "remove B x1" in items[0]["message"]


def test_unknown_status_raises_attention_and_changes_nothing(store: Store) -> None:
    """An unknown status is recorded with an attention item and no DealPOS call."""
    dp = FakeDealpos()
    record_orders(store, REALTIME, [order("TELEPORTED")])
    push(store, dp)
    assert dp.calls == []
    assert [i["kind"] for i in store.open_attention("shop1")] == ["unknown_status"]


def test_two_copies_of_a_new_order_in_one_page_leave_one_plan(store: Store) -> None:
    """The second copy of an order first seen in the same page replaces the first one's plan."""
    o = order("AWAITING_SHIPMENT")
    later = {**o, "status": "IN_TRANSIT", "update_time": BASE_TIME + 30}
    record_orders(store, REALTIME, [o, later])
    rows = store.get_outbox_for_order("shop1", o["id"])
    assert [(r.action.kind, r.action.fulfillment) for r in rows] == [("create", "Sent")]


def test_a_ledger_row_without_a_snapshot_copy_is_still_read(store: Store) -> None:
    """An order new to the snapshot whose invoice the ledger already knows is sent, not created."""
    o = order("IN_TRANSIT")
    store.put_ledger(
        "shop1", o["id"], LedgerRow(f"TT-{o['id']}", "inv-1", InvoiceState("active"), None)
    )
    record_orders(store, REALTIME, [o])
    assert [r.action.kind for r in store.get_outbox_for_order("shop1", o["id"])] == ["send"]


def test_pay_uses_the_payment_method_of_the_shop_settings(store: Store) -> None:
    """The pusher pays with the method in the shop's invoice settings (its only route)."""
    dp = FakeDealpos()
    methods: list[str] = []
    pay = dp.pay_in_full

    def recording_pay(outlet: str, number: str, date: str, method: str, note: str) -> Any:
        methods.append(method)
        return pay(outlet, number, date, method, note)

    dp.pay_in_full = recording_pay  # type: ignore[method-assign]
    settings = replace(SETTINGS, payment_method="QRIS TikTok")
    o = order("AWAITING_SHIPMENT")
    record_orders(store, replace(REALTIME, settings=settings), [o])
    push(store, dp)
    completed = {**o, "status": "COMPLETED", "update_time": BASE_TIME + 60}
    download = replace(DOWNLOAD, settings=settings)
    record_orders(store, download, [completed])
    push(store, dp, download)
    assert methods == ["QRIS TikTok"]
