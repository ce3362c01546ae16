"""Change the simulated DealPOS the way a person would in its back office, behind the job's back.

`POST /_sandbox/tamper` with `{"action": ..., ...}` (or `DealposSimulator.tamper`):
- `delete`  `{number}`: delete the invoice and empty it from the recycle bin (it is gone).
- `recycle` `{number}`: move it to the recycle bin (a sent one shows Returned).
- `restore` `{number}`: bring it back from the recycle bin.
- `pay`     `{number}`: record a payment of the remaining balance by hand.
- `amount`  `{number, amount}`: edit the first line's unit price so the invoice totals `amount`.
- `add`     `{reference?, number?, tag?, outlet?, date?, amount?}`: type a new invoice by hand
  (one unit of the first catalogue variant, priced at `amount` when given).
Every action answers the invoice as the inspection endpoint shows it; `sync-job verify` should
then report exactly one finding (missing, state, state, state, total, unexpected or duplicate).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from sync_job.sandbox.invoices import DealposError, Invoice, InvoiceBook, Payment

ACTIONS = ("delete", "recycle", "restore", "pay", "amount", "add")
_hand_numbers = itertools.count(1)


def tamper(book: InvoiceBook, body: Mapping[str, Any]) -> Invoice:
    """Apply one person's edit; DealposError(400/404) when it makes no sense."""
    action = str(body.get("action") or "")
    if action not in _EDITS and action != "add":
        raise DealposError(400, f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
    if action == "add":
        return _add(book, body)
    outlet = str(body.get("outlet") or book.outlets[0])
    invoice = book.get(outlet, str(body.get("number") or ""))
    if invoice is None:
        raise DealposError(404, f"no invoice {body.get('number')!r} in outlet {outlet!r}")
    return _EDITS[action](book, invoice, body)


def _delete(book: InvoiceBook, invoice: Invoice, body: Mapping[str, Any]) -> Invoice:
    book.erase(invoice)
    return invoice


def _recycle(book: InvoiceBook, invoice: Invoice, body: Mapping[str, Any]) -> Invoice:
    returned = "Returned" if invoice.fulfillment == "Sent" else invoice.fulfillment
    return book.put(replace(invoice, status="Cancelled", fulfillment=returned))


def _restore(book: InvoiceBook, invoice: Invoice, body: Mapping[str, Any]) -> Invoice:
    sent = "Sent" if invoice.fulfillment == "Returned" else invoice.fulfillment
    return book.put(replace(invoice, status="Active", fulfillment=sent))


def _pay(book: InvoiceBook, invoice: Invoice, body: Mapping[str, Any]) -> Invoice:
    left = invoice.total - invoice.paid
    if left <= 0:
        raise DealposError(400, f"invoice {invoice.number} is already paid")
    payment = Payment(invoice.date, left, book.payment_methods[0], "paid by hand")
    return book.put(replace(invoice, payments=(*invoice.payments, payment)))


def _amount(book: InvoiceBook, invoice: Invoice, body: Mapping[str, Any]) -> Invoice:
    wanted = _money(body.get("amount"))
    first, *rest = invoice.lines
    change = wanted - invoice.total
    if change % first.quantity:
        raise DealposError(400, f"the change {change} does not split over {first.quantity} units")
    price = first.price + change / first.quantity
    if price < 0 or first.discount > price * first.quantity:
        raise DealposError(400, f"amount {wanted} would make the first line's price negative")
    lines = (replace(first, price=price), *rest)
    return book.put(replace(invoice, lines=lines))


def _add(book: InvoiceBook, body: Mapping[str, Any]) -> Invoice:
    code, (_name, unit_price) = next(iter(book.variants.items()))
    price = _money(body["amount"]) if body.get("amount") is not None else unit_price
    typed = {
        "Outlet": body.get("outlet") or book.outlets[0],
        "Number": body.get("number") or f"HAND-{next(_hand_numbers):04d}",
        "Date": body.get("date") or None,
        "Tag": body.get("tag") if body.get("tag") is not None else "TikTok",
        "ReferenceNumber": body.get("reference") or "",
        "Note": "typed in by hand",
        "Variants": [{"Code": code, "Quantity": 1, "Price": price, "Discount": 0}],
    }
    return book.create(typed)


def _money(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise DealposError(400, f"amount {value!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise DealposError(400, f"amount {value!r} must be a number of at least 0")
    return amount


_EDITS: dict[str, Callable[[InvoiceBook, Invoice, Mapping[str, Any]], Invoice]] = {
    "delete": _delete,
    "recycle": _recycle,
    "restore": _restore,
    "pay": _pay,
    "amount": _amount,
}
