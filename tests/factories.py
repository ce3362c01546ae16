"""Small builders of TikTok payloads for unit tests."""

from __future__ import annotations

import itertools
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sync_job.domain.invoice import InvoiceSettings
from sync_job.service.app import App

_ids = itertools.count(576461413038785752)

BASE_TIME = 1_764_000_000  # 2025-11-24T16:00:00Z

# How long a create may still land in the unit tests (DealposConfig's default: twice 30 s).
SETTLE_SECONDS = 60.0

# The invoice settings of one typical shop, shared by the unit tests.
SETTINGS = InvoiceSettings(
    outlet="Online Store",
    tag="TikTok",
    invoice_prefix="TT-",
    timezone=ZoneInfo("Asia/Jakarta"),
    payment_method="TikTok Shop",
    default_customer="TikTok Customer",
)


def line(
    sku: str | None = "SKU-A",
    price: str = "150000",
    discount: str = "0",
    status: str = "AWAITING_SHIPMENT",
    name: str = "Thing",
) -> dict[str, Any]:
    """One line item (one unit)."""
    item: dict[str, Any] = {
        "id": f"li-{next(_ids)}",
        "product_name": name,
        "original_price": price,
        "sale_price": price,
        "seller_discount": discount,
        "platform_discount": "0",
        "display_status": status,
    }
    if sku is not None:
        item["seller_sku"] = sku
    return item


def order(
    status: str = "AWAITING_SHIPMENT",
    *,
    order_id: str | None = None,
    update_time: int = BASE_TIME,
    lines: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A plausible TikTok order payload."""
    data: dict[str, Any] = {
        "id": order_id or str(next(_ids)),
        "status": status,
        "create_time": BASE_TIME - 600,
        "paid_time": BASE_TIME - 300,
        "update_time": update_time,
        "buyer_email": "buyer@example.com",
        "recipient_address": {"name": "David Kong", "phone_number": "(+62)812-***-1234"},
        "payment": {"currency": "IDR", "shipping_fee": "10000", "total_amount": "160000"},
        "line_items": lines if lines is not None else [line()],
    }
    data.update(extra)
    return data


def ret(
    order_id: str,
    status: str = "RETURN_OR_REFUND_REQUEST_PENDING",
    *,
    return_id: str | None = None,
    update_time: int = BASE_TIME + 100,
) -> dict[str, Any]:
    """A return/refund payload."""
    return {
        "return_id": return_id or f"r-{next(_ids)}",
        "order_id": order_id,
        "return_type": "RETURN_AND_REFUND",
        "return_status": status,
        "return_reason_text": "Wrong size",
        "create_time": update_time - 10,
        "update_time": update_time,
        "refund_amount": {"currency": "IDR", "refund_total": "150000"},
        "return_line_items": [{"seller_sku": "SKU-A"}],
    }


def never_sleep_in_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the commands' App retry without sleeping (an unreachable host costs no real time)."""
    real_open = App.open.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(
        App,  # the class the commands use (sync_job.service.cli imports this one)
        "open",
        classmethod(lambda cls, c, **kw: real_open(cls, c, **{**kw, "sleep": lambda s: None})),
    )
