"""Check, on a live DealPOS tenant, the behaviours the job assumed but no public source confirms.

One probe invoice goes through the whole life the mirror gives invoices: created (two units, a
line discount, paid in full at creation), read back, sent, paid if still unpaid, deleted, read
again. Each answer settles one assumption; the findings are stored so the job adapts where it can.
The probe never leaves its invoice active: any failure after the create deletes it (and says so).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from sync_job.dealpos.wire import CreatedInvoice, InvoiceView
from sync_job.domain.errors import SyncError
from sync_job.domain.invoice import (
    Customer,
    InvoiceDraft,
    InvoiceLine,
    InvoicePayment,
    invoice_total,
)

PROBE_TAG = "sync-job probe"
UNITS = 2
UNIT_PRICE = Decimal(10000)
LINE_DISCOUNT = Decimal(1000)


class ProbeApi(Protocol):
    """The DealPOS calls the probe makes (sync_job.dealpos.client.DealposClient)."""

    def create_invoice(self, draft: InvoiceDraft) -> CreatedInvoice: ...
    def find_invoice_by_id(self, invoice_id: str) -> InvoiceView | None: ...
    def send_invoice(self, outlet: str, number: str, date: str) -> None: ...
    def pay_in_full(self, outlet: str, number: str, date: str, method: str, note: str) -> None: ...
    def delete_invoice(
        self, outlet: str, number: str, *, invoice_id: str | None = None
    ) -> None: ...


@dataclass(frozen=True)
class ProbeSettings:
    """Where and with what the probe invoice is made."""

    outlet: str
    invoice_prefix: str
    variant: str
    payment_method: str
    customer: str
    timezone_date: Callable[[int], str]  # Unix seconds → YYYY-MM-DD in sync.timezone


@dataclass(frozen=True)
class Finding:
    """One assumption and what the tenant showed: held (True), did not hold (False), or info."""

    name: str
    value: str
    held: bool | None
    detail: str


@dataclass
class ProbeReport:
    """Every finding of one probe, in the order they were made."""

    number_sent: str
    findings: list[Finding] = field(default_factory=list)
    deleted: bool = False  # the probe's own delete went through (nothing left to clean up)

    def add(self, name: str, value: str, held: bool | None, detail: str) -> None:
        """Append a finding."""
        self.findings.append(Finding(name, value, held, detail))

    @property
    def all_held(self) -> bool:
        """True when no finding says an assumption did not hold."""
        return all(f.held is not False for f in self.findings)


class ProbeFailed(SyncError):
    """A probe call failed; the report so far (and the clean-up) is attached."""

    def __init__(self, message: str, report: ProbeReport) -> None:
        super().__init__(message)
        self.report = report


def probe_number(prefix: str, now: float) -> str:
    """The probe invoice's Number: unmistakable, and new every second."""
    return f"{prefix}PROBE-{int(now)}"


def probe_draft(settings: ProbeSettings, number: str, now: float) -> InvoiceDraft:
    """Two units with a line discount, paid in full at creation (created already paid)."""
    day = settings.timezone_date(int(now))
    line = InvoiceLine(settings.variant, UNITS, UNIT_PRICE, LINE_DISCOUNT, "sync-job probe")
    payment = InvoicePayment(day, invoice_total([line]), settings.payment_method, "sync-job probe")
    return InvoiceDraft(
        outlet=settings.outlet,
        number=number,
        date=day,
        tag=PROBE_TAG,
        reference=number,
        fulfillment="Unsent",
        customer=Customer(settings.customer),
        lines=(line,),
        note="sync-job probe: checks this tenant's behaviour; deleted at once",
        payments=(payment,),
    )


def describe_calls(settings: ProbeSettings, now: float) -> list[str]:
    """The calls `probe --yes` would make, for the dry description."""
    number = probe_number(settings.invoice_prefix, now)
    total = UNIT_PRICE * UNITS - LINE_DISCOUNT
    return [
        f"POST /api/v3/Invoice  Number {number}, outlet {settings.outlet!r}, tag {PROBE_TAG!r}: "
        f"{UNITS} x {settings.variant} at {UNIT_PRICE} with a line discount of {LINE_DISCOUNT}, "
        f"paid {total} by {settings.payment_method!r} at creation",
        "GET  /api/v3/Invoice/Detail?ID=<the new ID>  (Number, field names, amount, payment)",
        "POST /api/v3/OutboundLogistic  (mark it sent)",
        "POST /api/v3/Payment/Invoice/AddPaymentFull  (only if it is not Paid yet)",
        'DELETE /api/v3/Invoice  {"InvoiceID": <the new ID>}  (to the recycle bin)',
        "GET  /api/v3/Invoice/Detail?ID=<the new ID>  (recycle bin or erased)",
    ]


def run_probe(
    api: ProbeApi, settings: ProbeSettings, *, clock: Callable[[], float] = time.time
) -> ProbeReport:
    """Make the probe invoice's whole life; raise ProbeFailed (after cleaning up) on a failure."""
    now = clock()
    report = ProbeReport(probe_number(settings.invoice_prefix, now))
    try:
        created = api.create_invoice(probe_draft(settings, report.number_sent, now))
    except SyncError as exc:
        raise ProbeFailed(f"DealPOS refused the probe invoice: {exc}", report) from exc
    try:
        _probe_created(api, settings, report, created, now)
    except SyncError as exc:
        _clean_up(api, settings, created, report)
        raise ProbeFailed(f"probe stopped: {exc}", report) from exc
    return report


def _probe_created(
    api: ProbeApi, settings: ProbeSettings, report: ProbeReport, created: CreatedInvoice, now: float
) -> None:
    _record_numbering(report, created)
    view = _read(api, created)
    _record_reading(report, view)
    day = settings.timezone_date(int(now))
    api.send_invoice(settings.outlet, created.number, day)
    if view.payment != "Paid":
        note = "sync-job probe"
        api.pay_in_full(settings.outlet, created.number, day, settings.payment_method, note)
    api.delete_invoice(settings.outlet, created.number, invoice_id=created.id)
    report.deleted = True
    _record_delete(report, api.find_invoice_by_id(created.id))


def _read(api: ProbeApi, created: CreatedInvoice) -> InvoiceView:
    view = api.find_invoice_by_id(created.id)
    if view is None:
        raise SyncError(f"the new invoice ID {created.id} cannot be read back by its ID")
    return view


def _record_numbering(report: ProbeReport, created: CreatedInvoice) -> None:
    if created.number == report.number_sent:
        report.add("numbering", "kept", True, f"DealPOS kept the Number sent ({created.number})")
        return
    report.add(
        "numbering",
        "renumbers",
        False,
        f"sent {report.number_sent}, DealPOS numbered it {created.number}: the job adapts "
        "(it keeps the returned ID and Number, and finds lost creates by ReferenceNumber)",
    )


def _record_reading(report: ProbeReport, view: InvoiceView) -> None:
    names = "Payment/Delivery" if view.field_names == "documented" else "PaymentStatus/Fulfillment"
    report.add("detail_fields", view.field_names, None, f"invoices read with {names}: both work")
    _record_discount(report, view.amount)
    if view.payment == "Paid":
        report.add("payment_at_create", "paid", True, "a full payment at creation made it Paid")
    else:
        report.add(
            "payment_at_create",
            view.payment.lower(),
            False,
            f"a full payment at creation left it {view.payment}: orders first seen already "
            "completed will need `sync-job verify` (state findings) and a manual payment",
        )


def _record_discount(report: ProbeReport, amount: Decimal | None) -> None:
    per_line = UNIT_PRICE * UNITS - LINE_DISCOUNT
    per_unit = (UNIT_PRICE - LINE_DISCOUNT) * UNITS
    if amount == per_line:
        report.add("discount", "per_line", True, f"Discount is per line (total {amount})")
    elif amount == per_unit:
        report.add(
            "discount",
            "per_unit",
            False,
            f"Discount is applied per unit (total {amount}, expected {per_line}): the job does "
            "not adapt; invoices of discounted multi-unit lines would be under-charged. Do not "
            "go live with seller discounts; `sync-job verify` reports them as `total` findings",
        )
    else:
        shown = "no amount" if amount is None else f"total {amount}"
        report.add("discount", "unknown", None, f"{shown}; expected {per_line} (per line)")


def _record_delete(report: ProbeReport, after: InvoiceView | None) -> None:
    if after is not None and after.status == "Cancelled":
        report.add("delete", "recycle", True, "a delete moves the invoice to the recycle bin")
    elif after is None:
        report.add(
            "delete",
            "erase",
            False,
            "a delete erased the invoice (not in the recycle bin): the job adapts (a lost "
            "delete whose lookup finds nothing counts as done)",
        )
    else:
        raise SyncError(f"the probe invoice is still {after.status} after the delete")


def _clean_up(
    api: ProbeApi, settings: ProbeSettings, created: CreatedInvoice, report: ProbeReport
) -> None:
    """Never leave the probe invoice active: delete it, and say whether that worked."""
    if report.deleted:
        return
    try:
        api.delete_invoice(settings.outlet, created.number, invoice_id=created.id)
    except SyncError as exc:
        report.add(
            "cleanup",
            "failed",
            False,
            f"could not delete the probe invoice {created.number}: delete it by hand ({exc})",
        )
        return
    report.add("cleanup", "deleted", None, f"the probe invoice {created.number} was deleted")
