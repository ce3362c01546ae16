"""The seed's three flows, end to end: the real command against both simulators on loopback."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.conftest import SHOP, Sandbox
from tests.factories import line, order, ret

pytestmark = pytest.mark.e2e


def put(sandbox: Sandbox, data: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    """Store (a new version of) an order in the TikTok simulator, updated a moment ago."""
    stamp = int(time.time()) - 20
    changed = {**data, "update_time": max(stamp, data.get("update_time", 0) + 1)}
    if status is not None:
        changed["status"] = status
    sandbox.tiktok.put_order(SHOP, changed)
    return changed


def states(sandbox: Sandbox, order_id: str) -> list[tuple[str, str, str]]:
    """Every DealPOS invoice of an order as (status, fulfilment, payment)."""
    return [
        (i.status, i.fulfillment, i.payment_status)
        for i in sandbox.dealpos.by_reference().get(order_id, [])
    ]


def test_real_time_flow_paid_sent_completed(sandbox: Sandbox) -> None:
    """Seed I: unpaid → none; paid → Unsent+Unpaid; picked up → Sent+Unpaid; completed stays."""
    o = put(sandbox, order("UNPAID", lines=[line("KAOS-HITAM-M"), line("KAOS-HITAM-M")]))
    sandbox.settle()
    assert states(sandbox, o["id"]) == []
    o = put(sandbox, o, "AWAITING_SHIPMENT")
    sandbox.settle()
    assert states(sandbox, o["id"]) == [("Active", "Unsent", "Unpaid")]
    o = put(sandbox, o, "IN_TRANSIT")
    sandbox.settle()
    assert states(sandbox, o["id"]) == [("Active", "Sent", "Unpaid")]
    sandbox.write_config(**{"sync.settle_completed": "download"})
    o = put(sandbox, o, "COMPLETED")
    sandbox.settle()
    assert states(sandbox, o["id"]) == [("Active", "Sent", "Unpaid")]
    # "Manual Download Order": a backfill settles it as Paid, without moving the daemon's cursor.
    cursors = sandbox.status()["shops"][0]["cursors"]
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 3600))
    sandbox.run("backfill", "--from", today)
    assert states(sandbox, o["id"]) == [("Active", "Sent", "Paid")]
    assert sandbox.status()["shops"][0]["cursors"] == cursors
    invoice = sandbox.dealpos.by_reference()[o["id"]][0]
    assert [(x.code, x.quantity) for x in invoice.lines] == [("KAOS-HITAM-M", 2)]


def test_cancel_flow_before_and_after_the_invoice(sandbox: Sandbox) -> None:
    """Seed II: cancelled unpaid → nothing; cancelled after the invoice → recycle bin."""
    unpaid = put(sandbox, order("UNPAID", lines=[line("KAOS-HITAM-M")]))
    paid = put(sandbox, order("AWAITING_SHIPMENT", lines=[line("KAOS-HITAM-M")]))
    shipped = put(sandbox, order("IN_TRANSIT", lines=[line("KAOS-HITAM-M")]))
    sandbox.settle()
    for o in (unpaid, paid, shipped):
        put(sandbox, o, "CANCELLED")
    sandbox.settle()
    assert states(sandbox, unpaid["id"]) == []
    assert states(sandbox, paid["id"]) == [("Cancelled", "Unsent", "Unpaid")]
    assert states(sandbox, shipped["id"]) == [("Cancelled", "Returned", "Unpaid")]
    assert sandbox.report().ok


def test_return_flow_settles_and_asks_for_a_manual_edit(sandbox: Sandbox) -> None:
    """Seed III: a return makes the invoice Sent + Paid and shows an attention item in status."""
    o = put(sandbox, order("DELIVERED", lines=[line("KAOS-HITAM-M")]))
    sandbox.settle()
    sandbox.tiktok.put_return(SHOP, ret(o["id"], return_id="4035000000000000001",
                                        update_time=int(time.time()) - 10))  # fmt: skip
    sandbox.settle()
    assert states(sandbox, o["id"]) == [("Active", "Sent", "Paid")]
    attention = sandbox.status()["shops"][0]["attention"]
    assert [a["kind"] for a in attention] == ["return"]
    assert "edit the invoice in DealPOS" in attention[0]["message"]
    assert sandbox.report().ok


def test_first_seen_late_is_one_call(sandbox: Sandbox) -> None:
    """An order first seen already delivered is created Sent in a single DealPOS call."""
    put(sandbox, order("DELIVERED", lines=[line("KAOS-HITAM-M")]))
    sandbox.settle()
    calls = sandbox.dealpos.calls
    assert calls.count("POST /api/v3/Invoice") == 1
    # One token, one create: no lookups, no other call.
    assert calls.count() - calls.count("GET /_sandbox/state") == 2, calls.snapshot()


def test_dry_run_changes_nothing(sandbox: Sandbox) -> None:
    """--dry-run prints the plan and writes nothing: no invoice, no cursor, no run record."""
    o = put(sandbox, order("IN_TRANSIT", lines=[line("KAOS-HITAM-M")]))
    out = sandbox.run("once", "--dry-run").stdout
    assert f"{o['id']}: none -> Sent+Unpaid: create" in out
    assert sandbox.dealpos.invoices() == []
    shop = sandbox.status()["shops"][0]
    assert shop["cursors"] == {"orders": None, "returns": None} and shop["last_run"] == {}
