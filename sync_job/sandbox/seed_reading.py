"""The seed article's three tables as the simulator reads them ("TikTok Order Status Flow in
DealPOS"), written apart from the job's own reading (sync_job/domain/flow.py), so a mirror check
does not rest on the very function it checks.

I, real time: unpaid → no invoice; paid → Unsent + Unpaid; picked up by the courier → Sent +
Unpaid; completed → stays Sent + Unpaid, Paid only by a "manual download" (or a tenant set to
settle at once). II, cancellation: the invoice goes to the recycle bin (none was made: nothing).
III, return/refund: the invoice is completed (Sent + Paid) and edited by hand; a request that was
rejected or withdrawn no longer counts.
"""

from __future__ import annotations

from collections.abc import Iterable

from sync_job.domain.flow import Fulfillment, InvoiceState, Payment

_TABLE_I: dict[str, tuple[Fulfillment, Payment]] = {
    "ON_HOLD": ("Unsent", "Unpaid"),
    "AWAITING_SHIPMENT": ("Unsent", "Unpaid"),
    "PARTIALLY_SHIPPING": ("Unsent", "Unpaid"),
    "AWAITING_COLLECTION": ("Unsent", "Unpaid"),
    "IN_TRANSIT": ("Sent", "Unpaid"),
    "DELIVERED": ("Sent", "Unpaid"),
}
_WITHDRAWN_WORDS = ("REJECT", "CANCEL")  # ..._REQUEST_REJECT, ..._REQUEST_CANCEL


def return_counts(return_status: str) -> bool:
    """A return/refund/replacement request counts unless it was rejected or withdrawn."""
    return not return_status.endswith(_WITHDRAWN_WORDS)


def seed_invoice(
    status: str, return_statuses: Iterable[str], *, settled: bool
) -> InvoiceState | None:
    """The invoice the seed's tables call for; None for a status the tables do not name.

    `settled`: completed orders are paid (a manual download ran, or the tenant settles at once).
    """
    if status == "CANCELLED":
        return InvoiceState("recycled")
    if status not in _TABLE_I and status not in ("UNPAID", "COMPLETED"):
        return None
    if any(return_counts(s) for s in return_statuses):
        return InvoiceState("active", "Sent", "Paid")
    if status == "UNPAID":
        return InvoiceState("none")
    if status == "COMPLETED":
        return InvoiceState("active", "Sent", "Paid" if settled else "Unpaid")
    fulfillment, payment = _TABLE_I[status]
    return InvoiceState("active", fulfillment, payment)
