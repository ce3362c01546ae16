"""A tenant that numbers invoices itself, erases on delete, or has two invoices for one order.

The pusher keeps the Number and ID DealPOS answered, addresses every later call with them,
remembers that the tenant renumbers, and resolves a lost create through the invoice list
(dealpos.md "Numbering, lookups and answers").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sync_job.domain.errors import OutcomeUnknown
from sync_job.engine.push import DrainControl, drain
from sync_job.engine.push_types import PushDeps, PushTally
from sync_job.engine.record import record_orders
from sync_job.engine.shop import ShopContext
from sync_job.state.store import Store
from sync_job.state.tenant import record_tenant_finding, tenant_findings
from tests.factories import BASE_TIME, SETTINGS, SETTLE_SECONDS, line, order
from tests.fakes import FakeDealpos

SHOP = "shop-renumber"
CTX = ShopContext(SHOP, "cipher", SETTINGS, "realtime", settle_always=True)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh state file."""
    return Store.open(tmp_path / "sync.db", clock=lambda: BASE_TIME + 120)


def push(store: Store, dp: FakeDealpos) -> PushTally:
    """Drain once, never sleeping."""
    return drain(PushDeps(store, dp, CTX, SETTLE_SECONDS), DrainControl(sleep=lambda s: None))


def test_the_returned_number_is_kept_and_used_by_every_later_call(store: Store) -> None:
    """Created as INV/00001: the ledger keeps it and its ID; send and pay address it."""
    o = order("AWAITING_SHIPMENT", order_id="901")
    dp = FakeDealpos(renumber=True)
    record_orders(store, CTX, [o])
    push(store, dp)
    ledger = store.get_ledger(SHOP, "901")
    assert ledger is not None and (ledger.number, ledger.invoice_id) == (
        "INV/00001",
        "id-INV/00001",
    )
    assert tenant_findings(store)["numbering"] == "renumbers"
    record_orders(store, CTX, [{**o, "status": "COMPLETED", "update_time": o["update_time"] + 5}])
    push(store, dp)
    assert (
        dp.invoices["INV/00001"]["FulfillmentStatus"],
        dp.invoices["INV/00001"]["PaymentStatus"],
    ) == ("Sent", "Paid")


def test_a_tenant_keeping_our_number_is_remembered_too(store: Store) -> None:
    """A create answered with the Number sent: numbering `kept`."""
    record_orders(store, CTX, [order("AWAITING_SHIPMENT", order_id="902")])
    push(store, FakeDealpos())
    assert tenant_findings(store)["numbering"] == "kept"


def test_a_lost_create_on_a_renumbering_tenant_is_found_in_the_list(store: Store) -> None:
    """The lookup by our Number cannot find it: the list by ReferenceNumber does; no duplicate."""
    record_tenant_finding(store, "numbering", "renumbers", "probe")
    dp = FakeDealpos(renumber=True)
    dp.script["create"].append((OutcomeUnknown("read timed out"), True))
    record_orders(store, CTX, [order("AWAITING_SHIPMENT", order_id="903")])
    tally = push(store, dp)
    assert dp.calls == ["create", "list"]
    assert list(dp.invoices) == ["INV/00001"] and tally.adopted == 1
    ledger = store.get_ledger(SHOP, "903")
    assert ledger is not None and (ledger.number, ledger.invoice_id) == (
        "INV/00001",
        "id-INV/00001",
    )
    assert tenant_findings(store)["detail_fields"] == "legacy"


def test_two_invoices_for_one_order_adopt_the_oldest_and_name_both(store: Store) -> None:
    """Someone made one by hand before the job's create answer was lost: the oldest is kept."""
    record_tenant_finding(store, "numbering", "renumbers", "probe")
    dp = FakeDealpos(renumber=True)
    dp.invoices["INV/00000"] = {
        "ID": "id-INV/00000",
        "Number": "INV/00000",
        "ReferenceNumber": "904",
        "Status": "Active",
        "FulfillmentStatus": "Unsent",
        "PaymentStatus": "Unpaid",
    }
    dp.script["create"].append((OutcomeUnknown("read timed out"), True))
    record_orders(store, CTX, [order("AWAITING_SHIPMENT", order_id="904")])
    push(store, dp)
    ledger = store.get_ledger(SHOP, "904")
    assert ledger is not None and ledger.number == "INV/00000"
    items = [a for a in store.open_attention(SHOP) if a["kind"] == "duplicate_invoice"]
    assert len(items) == 1
    assert "INV/00000" in items[0]["message"] and "INV/00002" in items[0]["message"]


def test_a_lost_delete_the_tenant_erased_counts_as_done(store: Store) -> None:
    """Delete applied (erased), answer lost: the lookup by ID finds nothing: done, no quarantine."""
    o = order("AWAITING_SHIPMENT", order_id="905")
    dp = FakeDealpos(renumber=True, erase=True)
    record_orders(store, CTX, [o])
    push(store, dp)
    dp.script["delete"].append((OutcomeUnknown("read timed out"), True))
    record_orders(store, CTX, [{**o, "status": "CANCELLED", "update_time": o["update_time"] + 5}])
    dp.calls.clear()
    push(store, dp)
    assert dp.calls == ["delete", "find"] and dp.invoices == {}
    ledger = store.get_ledger(SHOP, "905")
    assert ledger is not None and ledger.state.existence == "recycled"
    assert store.outbox_counts(SHOP) == {"pending": 0, "in_flight": 0, "quarantined": 0}
    assert [a for a in store.open_attention(SHOP) if a["kind"] == "rejected"] == []


def test_a_manual_edit_item_names_the_number_dealpos_gave(store: Store) -> None:
    """A line cancelled after the invoice was made: the item names INV/00001, not our Number."""
    o = order("AWAITING_SHIPMENT", order_id="906", lines=[line("SKU-A"), line("SKU-B")])
    dp = FakeDealpos(renumber=True)
    record_orders(store, CTX, [o])
    push(store, dp)
    later = order(
        "AWAITING_SHIPMENT",
        order_id="906",
        lines=[line("SKU-A"), line("SKU-B", status="CANCELLED")],
        update_time=o["update_time"] + 5,
    )
    record_orders(store, CTX, [later])
    items = [a for a in store.open_attention(SHOP) if a["kind"] == "partial_cancel"]
    assert len(items) == 1 and "from invoice INV/00001" in items[0]["message"]


def test_a_create_not_found_on_a_renumbering_tenant_waits_before_creating_again(
    tmp_path: Path,
) -> None:
    """No 409 protects a renumbering tenant from a slow create landing late: the job creates
    again only once the create can no longer land (the settle time), never at once."""
    path = tmp_path / "sync.db"
    now = [BASE_TIME + 120.0]
    store = Store.open(path, clock=lambda: now[0])
    record_tenant_finding(store, "numbering", "renumbers", "probe")
    dp = FakeDealpos(renumber=True)
    dp.script["create"].append((OutcomeUnknown("read timed out"), False))  # never applied
    record_orders(store, CTX, [order("AWAITING_SHIPMENT", order_id="907")])
    push(store, dp)
    assert dp.calls.count("create") == 1 and dp.invoices == {}  # not created again yet
    assert store.outbox_counts(SHOP)["in_flight"] == 1
    now[0] += SETTLE_SECONDS + 1
    push(store, dp)
    assert dp.calls.count("create") == 2 and list(dp.invoices) == ["INV/00001"]
