"""A real tenant may renumber invoices, use the documented field names, or erase on delete.

The whole life cycle and a lost answer for each action, end to end against the simulator in each
tenant mode (dealpos.md "Numbering, lookups and answers"): every later call addresses the invoice
DealPOS named, lookups read either field-name set, and a lost answer never makes a duplicate.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync_job.sandbox.faults import Fault
from sync_job.sandbox.invoices import TenantMode
from sync_job.state.store import Store
from sync_job.state.tenant import tenant_findings
from tests.e2e.conftest import SHOP, Sandbox, running_sandbox
from tests.e2e.test_seed_flows import put, states
from tests.factories import line, order, ret

pytestmark = pytest.mark.e2e

CREATE = "POST /api/v3/Invoice"
SEND = "POST /api/v3/OutboundLogistic"
PAY = "POST /api/v3/Payment/Invoice/AddPaymentFull"
DELETE = "DELETE /api/v3/Invoice"


@pytest.fixture(params=["renumbering", "documented", "renumbering,documented,erase"])
def tenant(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sandbox]:
    """Fault-free simulators; DealPOS in one tenant mode."""
    with running_sandbox(tmp_path, dealpos_mode=TenantMode.parse(request.param)) as box:
        yield box


def findings(sandbox: Sandbox) -> dict[str, str]:
    """The tenant findings the job recorded."""
    store = Store.open(sandbox.state_path)
    try:
        return tenant_findings(store)
    finally:
        store.close()


def cancelled(sandbox: Sandbox, fulfillment: str) -> list[tuple[str, str, str]]:
    """What a cancelled invoice looks like here: in the recycle bin, or gone when erased."""
    if sandbox.dealpos.mode.erase_on_delete:
        return []
    return [("Cancelled", fulfillment, "Unpaid")]


def test_whole_life_cycle(tenant: Sandbox) -> None:
    """paid → sent → completed + backfill → paid; cancel after the invoice; a return."""
    tenant.write_config(**{"sync.settle_completed": "download"})
    o = put(tenant, order("AWAITING_SHIPMENT", lines=[line("KAOS-HITAM-M")]))
    gone = put(tenant, order("AWAITING_SHIPMENT", lines=[line("KAOS-HITAM-M")]))
    back = put(tenant, order("DELIVERED", lines=[line("KAOS-HITAM-M")]))
    tenant.settle()
    assert states(tenant, o["id"]) == [("Active", "Unsent", "Unpaid")]
    o = put(tenant, o, "IN_TRANSIT")
    put(tenant, gone, "CANCELLED")
    tenant.tiktok.put_return(SHOP, ret(back["id"], return_id="4035000000000000009",
                                       update_time=int(time.time()) - 10))  # fmt: skip
    tenant.settle()
    assert states(tenant, o["id"]) == [("Active", "Sent", "Unpaid")]
    assert states(tenant, gone["id"]) == cancelled(tenant, "Unsent")
    assert states(tenant, back["id"]) == [("Active", "Sent", "Paid")]
    o = put(tenant, o, "COMPLETED")
    tenant.settle()
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 3600))
    tenant.run("backfill", "--from", today)
    assert states(tenant, o["id"]) == [("Active", "Sent", "Paid")]
    tenant.write_config(**{"sync.settle_completed": "always"})  # what the backfill made it
    assert tenant.report().ok
    calls = tenant.dealpos.calls
    assert calls.count("GET /api/v3/Invoice/Detail") == 0  # no fault: not one lookup
    assert calls.count("POST /api/v3/Invoice/MultipleOutlet") == 0
    mode, seen = tenant.dealpos.mode, findings(tenant)
    assert seen["numbering"] == ("renumbers" if mode.renumbering else "kept")
    if mode.renumbering:
        assert {i.number[:4] for i in tenant.dealpos.invoices()} == {"INV/"}


@pytest.mark.parametrize(
    ("endpoint", "status"),
    [(CREATE, None), (SEND, "IN_TRANSIT"), (PAY, "COMPLETED"), (DELETE, "CANCELLED")],
)
def test_a_lost_answer_resolves_without_a_duplicate(
    tenant: Sandbox, endpoint: str, status: str | None
) -> None:
    """The call applied but its answer was lost: looked up (by ID, by the list on a renumbering
    tenant), found done, never repeated; a delete an erasing tenant left no trace of is done."""
    first = put(tenant, order("AWAITING_SHIPMENT", lines=[line("KAOS-HITAM-M")]))
    tenant.settle()  # a first create: the job learns how this tenant numbers
    o = put(tenant, order("AWAITING_SHIPMENT", lines=[line("KAOS-HITAM-M")]))
    if status is not None:
        tenant.settle()
        o = put(tenant, o, status)
    tenant.dealpos.faults.queue(Fault.LOST_RESPONSE, endpoint=endpoint)
    tenant.settle()
    assert tenant.dealpos.calls.count(endpoint) == 1 + (endpoint == CREATE)  # never repeated
    want = {
        None: [("Active", "Unsent", "Unpaid")],
        "IN_TRANSIT": [("Active", "Sent", "Unpaid")],
        "COMPLETED": [("Active", "Sent", "Paid")],
        "CANCELLED": cancelled(tenant, "Unsent"),
    }[status]
    assert states(tenant, o["id"]) == want
    assert states(tenant, first["id"]) == [("Active", "Unsent", "Unpaid")]
    assert tenant.report().ok
