"""Lost answers and crashes mid-call: every action is checked before it is repeated, never doubled.

The in-memory DealPOS (tests/fakes.py) refuses what a real tenant refuses: a second create with
one Number (409), sending a Sent invoice, paying a Paid one, deleting a recycled one. So a call
repeated blindly shows up as a refusal, a quarantine or a second invoice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import responses

from sync_job.dealpos import DealposClient, Pacer
from sync_job.dealpos.wire import CreatedInvoice
from sync_job.domain.errors import OutcomeUnknown, TransientError
from sync_job.domain.flow import InvoiceState
from sync_job.domain.invoice import InvoiceDraft
from sync_job.engine.push import DrainControl
from sync_job.engine.push import drain as drain_outbox
from sync_job.engine.push_types import PushDeps, PushTally
from sync_job.engine.record import record_orders
from sync_job.engine.shop import ShopContext
from sync_job.net.retrying import RetryConfig
from sync_job.state.ledger import LedgerRow
from sync_job.state.store import Store
from tests.factories import BASE_TIME, SETTINGS, SETTLE_SECONDS, line, order
from tests.fakes import FakeDealpos

SHOP = "shop-lost"
# Completed orders are settled (Paid) as they arrive, so every one of the four calls is reachable.
CTX = ShopContext(SHOP, "cipher", SETTINGS, "realtime", settle_always=True)
DP_BASE = "https://tenant.dealpos.test"

# For each action kind: the status an order first has, and the status that then needs the call.
STEPS: dict[str, tuple[str | None, str]] = {
    "create": (None, "AWAITING_SHIPMENT"),
    "send": ("AWAITING_SHIPMENT", "IN_TRANSIT"),
    "pay": ("DELIVERED", "COMPLETED"),
    "delete": ("AWAITING_SHIPMENT", "CANCELLED"),
}
# The invoice each scenario must end with (as the fake DealPOS stores it).
END_STATE = {
    "create": ("Active", "Unsent", "Unpaid"),
    "send": ("Active", "Sent", "Unpaid"),
    "pay": ("Active", "Sent", "Paid"),
    "delete": ("Cancelled", "Unsent", "Unpaid"),
}


class Crash(BaseException):
    """The process dies (SIGKILL) in the middle of a call: nothing after it runs."""


class CrashingDealpos(FakeDealpos):
    """A fake DealPOS during whose next call to `method` the process dies.

    With `applied` the call reached DealPOS and was applied before the death; without, it never
    left the machine.
    """

    def __init__(self) -> None:
        super().__init__()
        self.crash: tuple[str, bool] | None = None

    def _run(self, method: str, apply: Callable[[], Any]) -> Any:
        if self.crash is not None and self.crash[0] == method:
            _, applied = self.crash
            self.crash = None
            self.calls.append(method)
            if applied:
                apply()
            raise Crash(method)
        return super()._run(method, apply)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the state database lives (reopened after a simulated crash)."""
    return tmp_path / "state" / "sync.db"


@pytest.fixture
def store(db_path: Path) -> Store:
    """A fresh state database in a real file."""
    return Store.open(db_path, clock=lambda: BASE_TIME)


def drain(store: Store, dealpos: Any, *, attempts: int = 5) -> PushTally:
    """Drain the outbox once, never sleeping, and return its tally."""
    control = DrainControl(retry=RetryConfig(max_attempts=attempts), sleep=lambda s: None)
    return drain_outbox(PushDeps(store, dealpos, CTX, SETTLE_SECONDS), control)


def prepare(store: Store, dp: FakeDealpos, kind: str) -> dict[str, Any]:
    """Bring an order to the point where its next call is `kind`; return its newest copy."""
    before, after = STEPS[kind]
    o = order(before or after, lines=[line("SKU-A")])
    if before is not None:
        record_orders(store, CTX, [o])
        drain(store, dp)
        o = {**o, "status": after, "update_time": BASE_TIME + 60}
    record_orders(store, CTX, [o])
    dp.calls.clear()
    return o


def invoice_state(dp: FakeDealpos, order_id: str) -> tuple[str, str, str]:
    """(Status, FulfillmentStatus, PaymentStatus) of an order's invoice in the fake DealPOS."""
    inv = dp.invoices[f"TT-{order_id}"]
    return inv["Status"], inv["FulfillmentStatus"], inv["PaymentStatus"]


def assert_clean(store: Store) -> None:
    """Nothing left in the outbox, nothing quarantined, no attention item."""
    assert store.outbox_counts(SHOP) == {"pending": 0, "in_flight": 0, "quarantined": 0}
    assert store.open_attention(SHOP) == []


def killed_mid_create(store: Store, dp: CrashingDealpos, *, applied: bool) -> dict[str, Any]:
    """Plan an order's create, kill the process during that call, close the store; the order."""
    o = prepare(store, dp, "create")
    dp.crash = ("create", applied)
    with pytest.raises(Crash):
        drain(store, dp)
    store.close()
    return o


@pytest.mark.parametrize("kind", list(STEPS))
def test_answer_lost_after_applying_is_looked_up_not_repeated(store: Store, kind: str) -> None:
    """A call applied whose answer was lost is checked by number: one call, no refusal."""
    dp = FakeDealpos()
    o = prepare(store, dp, kind)
    dp.script[kind].append((OutcomeUnknown("read timed out"), True))
    p = drain(store, dp)
    assert dp.calls == [kind, "find"]
    assert invoice_state(dp, o["id"]) == END_STATE[kind]
    assert p.adopted == 1 and p.quarantined == 0
    assert_clean(store)


@pytest.mark.parametrize("kind", list(STEPS))
def test_answer_lost_before_applying_is_looked_up_then_repeated_once(
    store: Store, kind: str
) -> None:
    """A call that never reached DealPOS is looked up (not done yet), then made exactly once."""
    dp = FakeDealpos()
    o = prepare(store, dp, kind)
    dp.script[kind].append((OutcomeUnknown("connection dropped"), False))
    drain(store, dp)
    assert dp.calls == [kind, "find", kind]
    assert invoice_state(dp, o["id"]) == END_STATE[kind]
    assert_clean(store)


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
@pytest.mark.parametrize("kind", list(STEPS))
def test_crash_between_call_and_mark_is_verified_on_restart(
    store: Store, db_path: Path, kind: str, applied: bool
) -> None:
    """A process killed mid-call leaves the action in flight; the next run looks before acting."""
    dp = CrashingDealpos()
    o = prepare(store, dp, kind)
    dp.crash = (kind, applied)
    with pytest.raises(Crash):
        drain(store, dp)
    store.close()
    assert dp.calls == [kind]
    restarted = Store.open(db_path, clock=lambda: BASE_TIME + 120)
    assert restarted.outbox_counts(SHOP)["in_flight"] == 1
    dp.calls.clear()
    drain(restarted, dp)
    assert dp.calls == (["find"] if applied else ["find", kind])
    assert invoice_state(dp, o["id"]) == END_STATE[kind]
    assert len(dp.invoices) == 1
    assert_clean(restarted)


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_crash_during_create_then_cancel_never_leaves_an_active_invoice(
    store: Store, db_path: Path, applied: bool
) -> None:
    """Killed mid-create, then the order is cancelled before the restart: no live invoice stays."""
    dp = CrashingDealpos()
    o = killed_mid_create(store, dp, applied=applied)
    restarted = Store.open(db_path, clock=lambda: BASE_TIME + 120)
    record_orders(restarted, CTX, [{**o, "status": "CANCELLED", "update_time": BASE_TIME + 90}])
    drain(restarted, dp)
    assert [inv["Status"] for inv in dp.invoices.values()] in ([], ["Cancelled"])
    assert dp.calls.count("create") <= 2 and dp.calls[1] == "find"
    if applied:
        assert dp.calls == ["create", "find", "delete"]
    assert_clean(restarted)


def test_lookup_failing_too_keeps_the_action_in_doubt(store: Store) -> None:
    """When the lookup itself fails, the action stays in flight; the next run looks again first."""
    dp = FakeDealpos()
    o = prepare(store, dp, "create")
    dp.script["create"].append((OutcomeUnknown("read timed out"), True))
    dp.script["find"].extend([(TransientError("HTTP 503"), False)] * 2)
    drain(store, dp, attempts=3)  # create + two failed lookups: out of attempts
    assert store.outbox_counts(SHOP)["in_flight"] == 1
    assert dp.calls == ["create", "find", "find"]
    drain(store, dp)
    assert dp.calls == ["create", "find", "find", "find"]
    assert invoice_state(dp, o["id"]) == END_STATE["create"]
    assert_clean(store)


def test_409_for_another_orders_invoice_is_quarantined_not_adopted(store: Store) -> None:
    """A duplicate Number that belongs to a different order is refused with an attention item."""
    dp = FakeDealpos()
    o = order("AWAITING_SHIPMENT")
    dp.put_invoice(o["id"], reference="999999999999999999")
    record_orders(store, CTX, [o])
    p = drain(store, dp)
    assert dp.calls == ["create", "find"]
    assert p.quarantined == 1 and p.adopted == 0
    [item] = store.open_attention(SHOP)
    assert (
        item["kind"] == "rejected"
        and "already belongs to order 999999999999999999" in (item["message"])
    )
    assert store.get_ledger(SHOP, o["id"]) is None


def test_409_adopts_a_recycled_invoice_and_plans_nothing_more(store: Store) -> None:
    """A 409 whose invoice is already in the recycle bin is adopted as recycled: no send after."""
    dp = FakeDealpos()
    o = order("IN_TRANSIT")
    dp.put_invoice(o["id"], status="Cancelled")
    record_orders(store, CTX, [o])
    drain(store, dp)
    assert dp.calls == ["create", "find"]
    ledger = store.get_ledger(SHOP, o["id"])
    assert ledger is not None and ledger.state == InvoiceState("recycled")
    assert store.outbox_counts(SHOP) == {"pending": 0, "in_flight": 0, "quarantined": 0}


# -- through the real DealPOS client: a gateway error on a write is an unknown outcome ----------


def real_client() -> DealposClient:
    """A DealPOS client that never waits for its pacer."""
    return DealposClient(
        base_url=DP_BASE,
        client_id="client",
        client_secret="client-secret-value",
        pacer=Pacer(1000, 1, sleep=lambda s: None),
        timeout=1.0,
    )


def detail(o: dict[str, Any], *, fulfillment: str = "Unsent") -> dict[str, Any]:
    """An Invoice/Detail answer for an order's invoice."""
    return {
        "ID": "inv-1",
        "Number": f"TT-{o['id']}",
        "ReferenceNumber": o["id"],
        "Status": "Active",
        "FulfillmentStatus": fulfillment,
        "PaymentStatus": "Unpaid",
    }


@pytest.fixture
def rsps(rsps: responses.RequestsMock) -> responses.RequestsMock:
    """The shared strict HTTP mock (tests/conftest.py), a token call registered first."""
    rsps.add(responses.POST, f"{DP_BASE}/api/v3/Token/OAuth2", json={"access_token": "t1"})
    return rsps


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_error_on_create_is_looked_up_not_repeated(
    store: Store, rsps: responses.RequestsMock, status: int
) -> None:
    """A 502/504 on a create may have been applied: the invoice is found by number, not remade."""
    o = order("AWAITING_SHIPMENT")
    rsps.add(responses.POST, f"{DP_BASE}/api/v3/Invoice", status=status, body="<html>Bad</html>")
    rsps.add(responses.GET, f"{DP_BASE}/api/v3/Invoice/Detail", json=detail(o))
    record_orders(store, CTX, [o])
    p = drain(store, real_client())
    assert p.adopted == 1 and p.created == 0
    assert [c.request.method for c in rsps.calls] == ["POST", "POST", "GET"]
    assert_clean(store)


def test_gateway_error_on_send_not_applied_is_checked_then_sent_once(
    store: Store, rsps: responses.RequestsMock
) -> None:
    """A 502 on a send: the lookup shows it Unsent, so it is sent again, once."""
    o = order("IN_TRANSIT")
    store.put_ledger(SHOP, o["id"], _active_ledger(o))
    send_url = f"{DP_BASE}/api/v3/OutboundLogistic"
    rsps.add(responses.POST, send_url, status=502, body="Bad Gateway")
    rsps.add(responses.GET, f"{DP_BASE}/api/v3/Invoice/Detail", json=detail(o))
    rsps.add(responses.POST, send_url, json={"ID": "f1", "OrderFulfillmentState": "Sent"})
    record_orders(store, CTX, [o])
    p = drain(store, real_client())
    assert p.sent == 1 and p.lookups == 1
    ledger = store.get_ledger(SHOP, o["id"])
    assert ledger is not None and ledger.state == InvoiceState("active", "Sent", "Unpaid")
    assert_clean(store)


def _active_ledger(o: dict[str, Any]) -> LedgerRow:
    """A ledger row saying an Unsent+Unpaid invoice was already made for this order."""
    return LedgerRow(f"TT-{o['id']}", "inv-1", InvoiceState("active"), {"SKU-A": 1})


def test_adoption_replans_later_actions_and_pushes_each_once(store: Store) -> None:
    """A lost send adopted mid-batch re-plans the pay after it: one pay, no stale repeat."""
    dp = FakeDealpos()
    o = order("AWAITING_SHIPMENT")
    record_orders(store, CTX, [o])
    drain(store, dp)
    record_orders(store, CTX, [{**o, "status": "COMPLETED", "update_time": BASE_TIME + 60}])
    assert [r.action.kind for r in store.get_outbox_for_order(SHOP, o["id"])] == ["send", "pay"]
    dp.calls.clear()
    dp.script["send"].append((OutcomeUnknown("read timed out"), True))
    drain(store, dp)
    assert dp.calls == ["send", "find", "pay"]
    assert invoice_state(dp, o["id"]) == ("Active", "Sent", "Paid")
    assert_clean(store)


class SnoopingDealpos(FakeDealpos):
    """Reads the state file through a second connection whenever a create leaves."""

    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self.db_path = db_path
        self.seen: list[dict[str, Any]] = []

    def create_invoice(self, draft: InvoiceDraft) -> CreatedInvoice:
        """Note what another process would find on disk at this moment, then create."""
        with sqlite3.connect(self.db_path) as other:
            outbox = dict(other.execute("SELECT order_id, state FROM outbox").fetchall())
            ledger = [r[0] for r in other.execute("SELECT order_id FROM ledger ORDER BY 1")]
        self.seen.append({"outbox": outbox, "ledger": ledger})
        return super().create_invoice(draft)


def test_each_call_leaves_after_its_mark_and_the_last_confirmation_are_on_disk(
    store: Store, db_path: Path
) -> None:
    """One commit per call carries the call's in-flight mark and the previous confirmation."""
    first, second = order(order_id="801"), order(order_id="802")
    record_orders(store, CTX, [first, second])
    dp = SnoopingDealpos(db_path)
    drain(store, dp)
    assert dp.seen == [
        {"outbox": {"801": "in_flight", "802": "pending"}, "ledger": []},
        {"outbox": {"802": "in_flight"}, "ledger": ["801"]},
    ]
    with sqlite3.connect(db_path) as other:  # the drain's end commits the last confirmation
        assert other.execute("SELECT COUNT(*) FROM outbox").fetchone() == (0,)


def test_a_crash_between_two_calls_keeps_the_first_confirmation(
    store: Store, db_path: Path
) -> None:
    """Killed after DealPOS confirmed a call: its confirmation is already on disk (its own unit
    of work), so the next run neither looks it up nor repeats it."""
    first, second = order(order_id="811"), order(order_id="812")
    record_orders(store, CTX, [first, second])
    dp = FakeDealpos()
    beats = iter([None, Crash("killed between two calls")])

    def heartbeat() -> None:
        crash = next(beats)
        if crash is not None:
            raise crash

    with pytest.raises(Crash):
        drain_outbox(PushDeps(store, dp, CTX, SETTLE_SECONDS), DrainControl(heartbeat=heartbeat))
    store.close()
    assert dp.calls == ["create"]
    restarted = Store.open(db_path, clock=lambda: BASE_TIME + 120)
    assert restarted.get_ledger(SHOP, "811") is not None  # on disk when the confirmation returned
    dp.calls.clear()
    tally = drain(restarted, dp)
    assert dp.calls == ["create"]
    assert (tally.adopted, tally.created) == (0, 1)
    assert sorted(dp.invoices) == ["TT-811", "TT-812"]
    assert_clean(restarted)


def test_a_confirmation_that_cannot_be_written_costs_one_lookup(
    store: Store, db_path: Path
) -> None:
    """The confirming unit fails (e.g. disk full): nothing of it is kept, the row stays in
    flight, and the next run looks the invoice up instead of creating it twice."""
    record_orders(store, CTX, [order(order_id="813")])
    dp = FakeDealpos()
    real_put = store.put_ledger

    def failing_put(shop_id: str, order_id: str, row: LedgerRow) -> None:
        real_put(shop_id, order_id, row)
        raise sqlite3.OperationalError("database or disk is full")

    store.put_ledger = failing_put  # type: ignore[method-assign]
    with pytest.raises(sqlite3.OperationalError):
        drain(store, dp)
    store.close()
    restarted = Store.open(db_path, clock=lambda: BASE_TIME + 120)
    assert restarted.get_ledger(SHOP, "813") is None  # the unit was undone as a whole
    assert [r.state for r in restarted.get_outbox_for_order(SHOP, "813")] == ["in_flight"]
    dp.calls.clear()
    tally = drain(restarted, dp)
    assert dp.calls == ["find"]
    assert tally.adopted == 1 and list(dp.invoices) == ["TT-813"]
    assert_clean(restarted)


def test_create_that_never_landed_then_cancel_makes_no_call_and_no_quarantine(
    store: Store, db_path: Path
) -> None:
    """Killed before the create reached DealPOS, then the order is cancelled (every line with
    it): the lookup finds nothing, the order is planned again from no invoice, nothing is due."""
    dp = CrashingDealpos()
    o = killed_mid_create(store, dp, applied=False)
    restarted = Store.open(db_path, clock=lambda: BASE_TIME + 120)
    gone = [{**li, "display_status": "CANCELLED"} for li in o["line_items"]]
    cancelled = {**o, "status": "CANCELLED", "update_time": BASE_TIME + 90, "line_items": gone}
    record_orders(restarted, CTX, [cancelled])
    dp.calls.clear()
    drain(restarted, dp)
    assert dp.calls == ["find"] and dp.invoices == {}
    assert_clean(restarted)


def test_create_that_never_landed_is_made_in_the_newest_state_in_one_call(
    store: Store, db_path: Path
) -> None:
    """Killed before the create landed, then the courier collects: one create, already Sent."""
    dp = CrashingDealpos()
    o = killed_mid_create(store, dp, applied=False)
    restarted = Store.open(db_path, clock=lambda: BASE_TIME + 120)
    record_orders(restarted, CTX, [{**o, "status": "IN_TRANSIT", "update_time": BASE_TIME + 90}])
    dp.calls.clear()
    drain(restarted, dp)
    assert dp.calls == ["find", "create"]
    assert invoice_state(dp, o["id"]) == ("Active", "Sent", "Unpaid")
    assert_clean(restarted)


def test_a_create_that_lands_after_a_negative_lookup_is_still_recycled(
    store: Store, db_path: Path
) -> None:
    """The create is slow, the order is cancelled, the first lookups find nothing yet: the row
    is kept in doubt (not dropped) until the settle time has passed, so the late invoice is
    found and recycled."""
    dp = CrashingDealpos()
    o = killed_mid_create(store, dp, applied=False)
    soon = Store.open(db_path, clock=lambda: BASE_TIME + 10)
    record_orders(soon, CTX, [{**o, "status": "CANCELLED", "update_time": BASE_TIME + 9}])
    dp.calls.clear()
    assert drain(soon, dp, attempts=2).left_pending == 1
    assert dp.calls == ["find", "find"] and soon.outbox_counts(SHOP)["in_flight"] == 1
    soon.close()
    dp.put_invoice(o["id"])  # the slow create lands at last
    later = Store.open(db_path, clock=lambda: BASE_TIME + 120)
    dp.calls.clear()
    drain(later, dp)
    assert dp.calls == ["find", "delete"]
    assert invoice_state(dp, o["id"])[0] == "Cancelled"
    assert_clean(later)
