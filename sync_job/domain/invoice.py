"""Draft DealPOS invoices from TikTok orders (flow.md §2): lines, amounts, dates. Pure: no I/O.

The wire format of the create call lives in `sync_job.dealpos.wire`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sync_job.domain.flow import Fulfillment, Payment
from sync_job.domain.orders import Order


class InvoiceProblem(ValueError):
    """The order cannot become an invoice as it is (e.g. a line without a SKU)."""


@dataclass(frozen=True)
class InvoiceSettings:
    """Per-shop settings that shape an invoice."""

    outlet: str
    tag: str
    invoice_prefix: str
    timezone: ZoneInfo
    payment_method: str
    default_customer: str
    shipping_variant: str | None = None
    sku_map: Mapping[str, str] = field(default_factory=dict)

    def number_for(self, order_id: str) -> str:
        """The deterministic invoice Number of an order, so a lost answer can be checked by it."""
        return self.invoice_prefix + order_id


def local_date(timestamp: int, tz: ZoneInfo) -> str:
    """A Unix timestamp as a YYYY-MM-DD calendar date in `tz`."""
    return datetime.fromtimestamp(timestamp, tz).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class InvoiceLine:
    """One invoice line: a variant code, units, unit price and the line's discount amount."""

    code: str
    quantity: int
    price: Decimal
    discount: Decimal
    note: str

    @property
    def total(self) -> Decimal:
        """Price × Quantity − Discount."""
        return self.price * self.quantity - self.discount


@dataclass(frozen=True)
class InvoicePayment:
    """A payment given with the create (the invoice is created already paid)."""

    date: str
    amount: Decimal
    method: str
    note: str


@dataclass(frozen=True)
class Customer:
    """The invoice's customer; email and mobile only when TikTok gave them."""

    name: str
    email: str | None = None
    mobile: str | None = None


@dataclass(frozen=True)
class InvoiceDraft:
    """Everything a new DealPOS invoice carries, before any wire format."""

    outlet: str
    number: str
    date: str
    tag: str
    reference: str
    fulfillment: Fulfillment
    customer: Customer
    lines: tuple[InvoiceLine, ...]
    note: str
    payments: tuple[InvoicePayment, ...] = ()

    @property
    def total(self) -> Decimal:
        """Σ Price × Quantity − Discount over the lines."""
        return invoice_total(self.lines)


def _lines(order: Order, settings: InvoiceSettings) -> tuple[InvoiceLine, ...]:
    grouped: dict[tuple[str, Decimal], InvoiceLine] = {}
    for line in order.active_lines:
        if not line.seller_sku:
            raise InvoiceProblem(f"line item {line.id or '?'} ({line.name}) has no seller_sku")
        code = settings.sku_map.get(line.seller_sku, line.seller_sku)
        # Group by code and price: each TikTok line item is one unit.
        key = (code, line.original_price)
        seen = grouped.get(key) or InvoiceLine(code, 0, line.original_price, Decimal(0), line.name)
        grouped[key] = replace(
            seen, quantity=seen.quantity + 1, discount=seen.discount + line.seller_discount
        )
    if not grouped:
        raise InvoiceProblem("every line item is cancelled: nothing to invoice")
    lines = tuple(grouped.values())
    if settings.shipping_variant and order.shipping_fee > 0:
        fee = InvoiceLine(
            settings.shipping_variant, 1, order.shipping_fee, Decimal(0), "Shipping fee"
        )
        lines = (*lines, fee)
    return lines


def invoice_total(lines: Iterable[InvoiceLine]) -> Decimal:
    """Σ Price × Quantity − Discount over the invoice lines."""
    return sum((line.total for line in lines), Decimal(0))


def _customer(order: Order, settings: InvoiceSettings) -> Customer:
    name = order.recipient_name
    # Platform logistics masks the address ("J*** D**"): a masked name is no use in DealPOS.
    if not name or "*" in name:
        name = settings.default_customer
    return Customer(name, order.buyer_email or None, order.phone or None)


def invoice_date(order: Order, tz: ZoneInfo) -> str:
    """The invoice Date: the order's paid_time (fallback create_time) in the shop's timezone."""
    return local_date(order.paid_time or order.create_time or order.update_time, tz)


def draft_invoice(
    order: Order, settings: InvoiceSettings, fulfillment: Fulfillment, payment: Payment
) -> InvoiceDraft:
    """The invoice to create directly in the given state (one call)."""
    lines = _lines(order, settings)
    note = f"TikTok Shop order {order.id}"
    payments: tuple[InvoicePayment, ...] = ()
    if payment == "Paid":
        paid_on = local_date(order.update_time, settings.timezone)
        payments = (InvoicePayment(paid_on, invoice_total(lines), settings.payment_method, note),)
    return InvoiceDraft(
        outlet=settings.outlet,
        number=settings.number_for(order.id),
        date=invoice_date(order, settings.timezone),
        tag=settings.tag,
        reference=order.id,
        fulfillment=fulfillment,
        customer=_customer(order, settings),
        lines=lines,
        note=note,
        payments=payments,
    )


def send_date(order: Order, tz: ZoneInfo) -> str:
    """The fulfilment date: when the courier collected the order (fallback: its last update)."""
    return local_date(order.collection_time or order.update_time, tz)


def line_summary(order: Order) -> dict[str, int]:
    """SKU → units still on the order, to notice lines cancelled after the invoice was made."""
    summary: dict[str, int] = {}
    for line in order.active_lines:
        key = line.seller_sku or "?"
        summary[key] = summary.get(key, 0) + 1
    return summary


def expected_total(order: Order, settings: InvoiceSettings) -> Decimal:
    """The amount the order's invoice is created with: Σ Price × Quantity − Discount over its
    lines (the shipping line included when configured). Raises InvoiceProblem like the build."""
    return invoice_total(_lines(order, settings))
