"""Building the DealPOS invoice body from a TikTok order (flow.md §2)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sync_job.dealpos.wire import create_body
from sync_job.domain import jsonutil
from sync_job.domain.invoice import (
    InvoiceProblem,
    InvoiceSettings,
    draft_invoice,
    invoice_total,
)
from sync_job.domain.orders import Order, parse_order
from tests.factories import SETTINGS, line, order


def build_invoice(o: Order, settings: InvoiceSettings, fulfillment: Any, payment: Any) -> Any:
    """The create body on the wire, from the pure draft."""
    return create_body(draft_invoice(o, settings, fulfillment, payment))


def test_lines_grouped_by_sku_with_summed_seller_discount() -> None:
    """Units of one SKU become one line: Quantity = count, Discount = Σ seller_discount."""
    o = parse_order(
        order(lines=[line("A", "100.50", "10"), line("A", "100.50", "5.25"), line("B", "20")])
    )
    body = build_invoice(o, SETTINGS, "Unsent", "Unpaid")
    variants = {v["Code"]: v for v in body["Variants"]}
    assert variants["A"]["Quantity"] == 2
    assert variants["A"]["Price"] == Decimal("100.50")
    assert variants["A"]["Discount"] == Decimal("15.25")
    assert variants["B"]["Quantity"] == 1
    assert body["Payments"] == []
    assert body["Number"] == f"TT-{o.id}" and body["ReferenceNumber"] == o.id


def test_cancelled_lines_are_left_out() -> None:
    """A line whose display_status is CANCELLED is not invoiced."""
    o = parse_order(order(lines=[line("A"), line("B", status="CANCELLED")]))
    codes = [v["Code"] for v in build_invoice(o, SETTINGS, "Unsent", "Unpaid")["Variants"]]
    assert codes == ["A"]


def test_paid_at_creation_pays_the_full_amount_exactly() -> None:
    """An order that must already be paid is created with one payment of the invoice total."""
    o = parse_order(order(lines=[line("A", "0.10", "0.03"), line("A", "0.10"), line("B", "0.20")]))
    body = build_invoice(o, SETTINGS, "Sent", "Paid")
    assert body["Fulfillment"] == "Sent"
    assert body["Payments"][0]["Amount"] == Decimal("0.37")
    assert body["Payments"][0]["Method"] == "TikTok Shop"
    assert '"Amount":0.37' in jsonutil.dumps(body)  # exact on the wire, never a float


def test_date_is_paid_time_in_shop_timezone() -> None:
    """The invoice Date is paid_time as a calendar date in sync.timezone (UTC+7 here)."""
    o = parse_order(order(paid_time=1_764_003_600 - 3600 * 2))  # 2025-11-24T14:00Z = 21:00 WIB
    assert build_invoice(o, SETTINGS, "Unsent", "Unpaid")["Date"] == "2025-11-24"
    late = parse_order(order(paid_time=1_764_003_600 + 3600 * 2))  # 18:00Z = 01:00 next day WIB
    assert build_invoice(late, SETTINGS, "Unsent", "Unpaid")["Date"] == "2025-11-25"


def test_masked_or_missing_name_uses_default_customer() -> None:
    """A masked recipient name becomes the configured default customer."""
    o = parse_order(order(recipient_address={"name": "D*** K***"}))
    assert build_invoice(o, SETTINGS, "Unsent", "Unpaid")["Customer"]["Name"] == "TikTok Customer"


def test_sku_map_and_shipping_variant() -> None:
    """SKUs are translated through sku_map; shipping becomes a line only when configured."""
    settings = InvoiceSettings(
        **{**SETTINGS.__dict__, "sku_map": {"A": "DP-A"}, "shipping_variant": "SHIPPING"}
    )
    draft = draft_invoice(parse_order(order(lines=[line("A", "100")])), settings, "Unsent", "Paid")
    assert [v["Code"] for v in create_body(draft)["Variants"]] == ["DP-A", "SHIPPING"]
    assert invoice_total(draft.lines) == Decimal("10100")


def test_missing_sku_is_an_invoice_problem() -> None:
    """A line without seller_sku cannot be invoiced: the order is quarantined, not the run."""
    with pytest.raises(InvoiceProblem, match="no seller_sku"):
        build_invoice(parse_order(order(lines=[line(None)])), SETTINGS, "Unsent", "Unpaid")
