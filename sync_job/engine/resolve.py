"""Find an order's invoice in DealPOS when an answer was lost (dealpos.md "Numbering, lookups").

By DealPOS's ID when the ledger has it; by Number when the ledger has only that, or for a create
in doubt (the Number we sent); on a tenant known to renumber (a create came back with another
Number, or `sync-job probe` found it) a create in doubt is looked up in the invoice list by
ReferenceNumber over the invoice date ±1 day. Two invoices for one order: the oldest is the one,
the others are named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sync_job.dealpos.wire import InvoiceView
from sync_job.domain.invoice import invoice_date
from sync_job.domain.orders import Order
from sync_job.engine.ports import InvoiceFinder, iter_invoices
from sync_job.engine.shop import ShopContext
from sync_job.state import tenant
from sync_job.state.ledger import LedgerRow
from sync_job.state.store import Store

LIST_PAGES_MAX = 50  # 5,000 invoices of one tag in three days: more means something is wrong


@dataclass(frozen=True)
class Found:
    """What a lookup found: the order's invoice (None: none at all) and any extra ones."""

    invoice: InvoiceView | None
    others: list[InvoiceView] = field(default_factory=list)
    by_list: bool = False


def find_order_invoice(
    client: InvoiceFinder, store: Store, shop: ShopContext, order: Order, ledger: LedgerRow | None
) -> Found:
    """Look the order's invoice up the cheapest way that can find it on this tenant."""
    if ledger is not None and ledger.invoice_id:
        return Found(_noted(store, client.find_invoice_by_id(ledger.invoice_id)))
    outlet = shop.settings.outlet
    if ledger is not None and ledger.number:
        return Found(_noted(store, client.find_invoice(outlet, ledger.number)))
    if tenant.renumbers(store):
        return _by_reference(client, store, shop, order)
    return Found(_noted(store, client.find_invoice(outlet, shop.settings.number_for(order.id))))


def _by_reference(client: InvoiceFinder, store: Store, shop: ShopContext, order: Order) -> Found:
    """The order's invoices in the list (outlet, tag, invoice date ±1 day), oldest first."""
    day = date.fromisoformat(invoice_date(order, shop.settings.timezone))
    first, last = (day - timedelta(days=1)).isoformat(), (day + timedelta(days=1)).isoformat()
    s = shop.settings
    listed = iter_invoices(client, s.outlet, s.tag, (first, last), LIST_PAGES_MAX)
    mine = [row for row in listed if row.reference == order.id]
    if not mine:
        return Found(None, by_list=True)
    mine.sort(key=lambda v: (v.created, v.id))
    _noted(store, mine[0])
    return Found(mine[0], mine[1:], by_list=True)


def _noted(store: Store, found: InvoiceView | None) -> InvoiceView | None:
    """Remember which field names this tenant's answers use (a lookup is the evidence)."""
    if found is not None:
        tenant.note_tenant_finding(store, tenant.DETAIL_FIELDS, found.field_names, "lookup")
    return found


def note_numbering(store: Store, sent: str, returned: str) -> None:
    """A create's answer tells whether the tenant kept our Number or gave its own."""
    value = tenant.KEPT if returned == sent else tenant.RENUMBERS
    tenant.note_tenant_finding(store, tenant.NUMBERING, value, f"create {sent} answered {returned}")
