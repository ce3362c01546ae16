"""Build DealPOS invoice bodies from TikTok orders (flow.md §2). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
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


def _variants(order: Order, settings: InvoiceSettings) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, Decimal], dict[str, Any]] = {}
    for line in order.active_lines:
        if not line.seller_sku:
            raise InvoiceProblem(f"line item {line.id or '?'} ({line.name}) has no seller_sku")
        code = settings.sku_map.get(line.seller_sku, line.seller_sku)
        # Group by code and price: each TikTok line item is one unit.
        entry = grouped.setdefault(
            (code, line.original_price),
            {"Code": code, "Quantity": 0, "Price": line.original_price, "Discount": Decimal(0)},
        )
        entry["Quantity"] += 1
        entry["Discount"] += line.seller_discount
        entry.setdefault("Note", line.name)
    if not grouped:
        raise InvoiceProblem("every line item is cancelled: nothing to invoice")
    variants = list(grouped.values())
    if settings.shipping_variant and order.shipping_fee > 0:
        variants.append(
            {
                "Code": settings.shipping_variant,
                "Quantity": 1,
                "Price": order.shipping_fee,
                "Discount": Decimal(0),
                "Note": "Shipping fee",
            }
        )
    return variants


def invoice_total(variants: list[dict[str, Any]]) -> Decimal:
    """Σ Price × Quantity − Discount over the invoice lines."""
    return sum(
        (v["Price"] * v["Quantity"] - v["Discount"] for v in variants),
        Decimal(0),
    )


def _customer(order: Order, settings: InvoiceSettings) -> dict[str, str]:
    name = order.recipient_name
    # Platform logistics masks the address ("J*** D**"): a masked name is no use in DealPOS.
    if not name or "*" in name:
        name = settings.default_customer
    customer = {"Name": name}
    if order.buyer_email:
        customer["Email"] = order.buyer_email
    if order.phone:
        customer["Mobile"] = order.phone
    return customer


def invoice_date(order: Order, tz: ZoneInfo) -> str:
    """The invoice Date: the order's paid_time (fallback create_time) in the shop's timezone."""
    return local_date(order.paid_time or order.create_time or order.update_time, tz)


def build_invoice(
    order: Order, settings: InvoiceSettings, fulfillment: Fulfillment, payment: Payment
) -> dict[str, Any]:
    """The `POST /Invoice` body creating the invoice directly in the given state (one call)."""
    variants = _variants(order, settings)
    payments = []
    if payment == "Paid":
        payments.append(
            {
                "Date": local_date(order.update_time, settings.timezone),
                "Amount": invoice_total(variants),
                "Method": settings.payment_method,
                "Note": f"TikTok Shop order {order.id}",
            }
        )
    return {
        "Outlet": settings.outlet,
        "Number": settings.number_for(order.id),
        "Date": invoice_date(order, settings.timezone),
        "Tag": settings.tag,
        "ReferenceNumber": order.id,
        "Fulfillment": fulfillment,
        "Customer": _customer(order, settings),
        "Variants": variants,
        "Note": f"TikTok Shop order {order.id}",
        "Payments": payments,
    }


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
    return invoice_total(_variants(order, settings))
