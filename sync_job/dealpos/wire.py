"""DealPOS's wire format, typed at the edge: the bodies we send and the answers we accept.

Nothing outside `sync_job.dealpos` sees a DealPOS field name. Invoices are read with either name
set (dealpos.md "Numbering, lookups and answers"): the documented `Payment` / `Delivery` and the
older `PaymentStatus` / `FulfillmentStatus` (or `Fulfillment`). An answer with neither is a bad
body, never a default state. A 2xx answer to a change that is not its documented success shape is
in doubt (the client raises `OutcomeUnknown`), so the caller looks the invoice up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from sync_job.domain import jsonutil
from sync_job.domain.flow import InvoiceState
from sync_job.domain.invoice import InvoiceDraft, InvoiceLine, InvoicePayment

__all__ = [
    "BadInvoiceBody",
    "CreatedInvoice",
    "FieldNames",
    "InvoiceView",
    "create_body",
    "delete_body",
    "is_created",
    "is_deleted",
    "is_invoice",
    "is_invoice_list",
    "is_paid",
    "is_sent",
    "list_body",
    "parse_created",
    "parse_invoice",
    "parse_invoice_list",
]

FieldNames = Literal["documented", "legacy"]
RecordStatus = Literal["Active", "Cancelled"]

_PAYMENTS = frozenset({"Paid", "Partial", "Unpaid"})
_DELIVERIES = frozenset({"Sent", "Unsent", "Partial", "Returned"})
_STATUSES = frozenset({"Active", "Cancelled"})
# Documented name first: an answer carrying both sets is read (and recorded) as documented.
_PAYMENT_KEYS: tuple[tuple[str, FieldNames], ...] = (
    ("Payment", "documented"),
    ("PaymentStatus", "legacy"),
)
_DELIVERY_KEYS: tuple[tuple[str, FieldNames], ...] = (
    ("Delivery", "documented"),
    ("FulfillmentStatus", "legacy"),
    ("Fulfillment", "legacy"),
)
_HEAD_CHARS = 200
# Documented: AddPaymentFull answers {"Message": "... has successfully completed a Paid"}.
_PAID_MESSAGE = re.compile(r"\bsuccessfully\b.*\bpaid\b", re.IGNORECASE | re.DOTALL)
# Documented: DELETE /Invoice answers "Invoice has been delete!{}" (sic).
_DELETED_MESSAGE = re.compile(r"\bhas been delete", re.IGNORECASE)


class BadInvoiceBody(ValueError):
    """An answer that should be an invoice but is not one we can read; carries its first bytes."""

    def __init__(self, problem: str, raw: Any) -> None:
        self.body_head = _head(raw)
        super().__init__(f"DealPOS invoice answer {problem}; body starts: {self.body_head!r}")


@dataclass(frozen=True)
class InvoiceView:
    """One DealPOS invoice as a detail answer or an invoice-list row shows it."""

    id: str
    number: str
    reference: str
    outlet: str
    date: str
    amount: Decimal | None
    payment: str  # Paid | Partial | Unpaid
    delivery: str  # Sent | Unsent | Partial | Returned
    status: RecordStatus
    tag: str
    created: str
    field_names: FieldNames  # which name set the answer used

    def state(self) -> InvoiceState:
        """The invoice as the mirror sees it: recycled, or active with fulfilment and payment."""
        if self.status == "Cancelled":
            return InvoiceState("recycled")
        sent = self.delivery in ("Sent", "Returned")
        return InvoiceState(
            "active", "Sent" if sent else "Unsent", "Paid" if self.payment == "Paid" else "Unpaid"
        )


@dataclass(frozen=True)
class CreatedInvoice:
    """DealPOS's identity of a new invoice: its ID and the Number it chose (maybe not ours)."""

    id: str
    number: str


# ----- requests -------------------------------------------------------------------------------


def create_body(draft: InvoiceDraft) -> dict[str, Any]:
    """The `POST /Invoice` body for a drafted invoice."""
    customer: dict[str, str] = {"Name": draft.customer.name}
    if draft.customer.email:
        customer["Email"] = draft.customer.email
    if draft.customer.mobile:
        customer["Mobile"] = draft.customer.mobile
    return {
        "Outlet": draft.outlet,
        "Number": draft.number,
        "Date": draft.date,
        "Tag": draft.tag,
        "ReferenceNumber": draft.reference,
        "Fulfillment": draft.fulfillment,
        "Customer": customer,
        "Variants": [_variant(line) for line in draft.lines],
        "Note": draft.note,
        "Payments": [_payment(p) for p in draft.payments],
    }


def _variant(line: InvoiceLine) -> dict[str, Any]:
    return {
        "Code": line.code,
        "Quantity": line.quantity,
        "Price": line.price,
        "Discount": line.discount,
        "Note": line.note,
    }


def _payment(payment: InvoicePayment) -> dict[str, Any]:
    return {
        "Date": payment.date,
        "Amount": payment.amount,
        "Method": payment.method,
        "Note": payment.note,
    }


def delete_body(outlet: str, number: str, invoice_id: str | None) -> dict[str, str]:
    """The `DELETE /Invoice` body: by DealPOS's ID when known, else by Outlet + Number."""
    if invoice_id:
        return {"InvoiceID": invoice_id}
    return {"Outlet": outlet, "Number": number}


def list_body(
    outlet: str, tag: str, start_date: str, end_date: str, page_number: int, page_size: int
) -> dict[str, Any]:
    """The `POST /Invoice/MultipleOutlet` body: one outlet and tag, any status, one page."""
    return {
        "Outlet": [outlet],
        "Tag": [tag],
        "From": start_date,
        "To": end_date,
        "Status": "Any",
        "PageNumber": page_number,
        "PageSize": page_size,
    }


# ----- answers --------------------------------------------------------------------------------


def parse_invoice(raw: Any) -> InvoiceView:
    """Read a detail answer or a list row; BadInvoiceBody when it is not a readable invoice."""
    if not isinstance(raw, dict):
        raise BadInvoiceBody("is not an object", raw)
    if not _text(raw, "ID") and not _text(raw, "Number"):
        raise BadInvoiceBody("has neither ID nor Number", raw)
    payment, pay_names = _pick(raw, _PAYMENT_KEYS, _PAYMENTS, "payment")
    delivery, delivery_names = _pick(raw, _DELIVERY_KEYS, _DELIVERIES, "delivery")
    status = _text(raw, "Status") or "Active"
    if status not in _STATUSES:
        raise BadInvoiceBody(f"has an unknown Status {status!r}", raw)
    names: FieldNames = "documented" if "documented" in (pay_names, delivery_names) else "legacy"
    return InvoiceView(
        id=_text(raw, "ID"),
        number=_text(raw, "Number"),
        reference=_text(raw, "ReferenceNumber"),
        outlet=_text(raw, "Outlet"),
        date=_text(raw, "Date"),
        amount=_amount(raw),
        payment=payment,
        delivery=delivery,
        status="Cancelled" if status == "Cancelled" else "Active",
        tag=_text(raw, "Tag"),
        created=_text(raw, "Created"),
        field_names=names,
    )


def parse_invoice_list(raw: Any) -> list[InvoiceView]:
    """Read an invoice-list page; every row must be a readable invoice."""
    if not isinstance(raw, list):
        raise BadInvoiceBody("list is not a JSON array", raw)
    return [parse_invoice(row) for row in raw]


def parse_created(raw: Any) -> CreatedInvoice:
    """Read a create answer `{"ID", "Number"}`; BadInvoiceBody when it is not that shape."""
    if not is_created(raw):
        raise BadInvoiceBody("to a create is not {ID, Number}", raw)
    return CreatedInvoice(_text(raw, "ID"), _text(raw, "Number"))


def is_invoice(raw: Any) -> bool:
    """Whether a detail answer is a readable invoice."""
    return _parses(parse_invoice, raw)


def is_invoice_list(raw: Any) -> bool:
    """Whether a list answer is an array of readable invoices."""
    return _parses(parse_invoice_list, raw)


def is_created(raw: Any) -> bool:
    """The documented create answer: an object with a non-empty `ID` and `Number`."""
    return isinstance(raw, dict) and bool(_text(raw, "ID")) and bool(_text(raw, "Number"))


def is_sent(raw: Any) -> bool:
    """The documented outbound-logistic answer: an object with `OrderFulfillmentState`."""
    return isinstance(raw, dict) and bool(_text(raw, "OrderFulfillmentState"))


def is_paid(raw: Any) -> bool:
    """The documented payment answer: `{"Message": "... has successfully completed a Paid"}`."""
    message = raw.get("Message") if isinstance(raw, dict) else None
    return isinstance(message, str) and bool(_PAID_MESSAGE.search(message))


def is_deleted(raw: Any) -> bool:
    """The documented delete answer: the text "Invoice has been delete!{}" (JSON or plain)."""
    if isinstance(raw, dict):
        raw = raw.get("Message")
    return isinstance(raw, str) and bool(_DELETED_MESSAGE.search(raw))


def _pick(
    raw: dict[str, Any],
    keys: tuple[tuple[str, FieldNames], ...],
    allowed: frozenset[str],
    what: str,
) -> tuple[str, FieldNames]:
    for key, names in keys:
        value = _text(raw, key)
        if not value:
            continue
        if value not in allowed:
            raise BadInvoiceBody(f"has an unknown {what} {key}={value!r}", raw)
        return value, names
    wanted = " or ".join(k for k, _ in keys)
    raise BadInvoiceBody(f"has no {what} field ({wanted})", raw)


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


def _amount(raw: dict[str, Any]) -> Decimal | None:
    for key in ("Amount", "Total"):
        value = raw.get(key)
        if value is None or isinstance(value, bool):
            continue
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise BadInvoiceBody(f"has an {key} that is not a number", raw) from None
    return None


def _parses(parse: Callable[[Any], object], raw: Any) -> bool:
    try:
        parse(raw)
    except BadInvoiceBody:
        return False
    return True


def _head(raw: Any) -> str:
    try:
        text = jsonutil.dumps(raw)
    except (TypeError, ValueError):
        text = repr(raw)
    return text[:_HEAD_CHARS]
