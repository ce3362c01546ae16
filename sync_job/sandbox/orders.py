"""Build and change TikTok Shop order and return records (202309 shapes, amounts as strings)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sync_job.sandbox.catalogue import Product

Order = dict[str, Any]

STATUSES = (
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
)
PAID_STATUSES = STATUSES[1:]
_PACKAGE_STATUS = {
    "UNPAID": "TO_FULFILL",
    "ON_HOLD": "TO_FULFILL",
    "AWAITING_SHIPMENT": "TO_FULFILL",
    "AWAITING_COLLECTION": "PROCESSING",
    "IN_TRANSIT": "FULFILLING",
    "DELIVERED": "COMPLETED",
    "COMPLETED": "COMPLETED",
    "CANCELLED": "CANCELLED",
}
# The timestamp a status fills the first time an order reaches it.
_STAMPS = {
    "ON_HOLD": "paid_time",
    "AWAITING_SHIPMENT": "paid_time",
    "AWAITING_COLLECTION": "rts_time",
    "IN_TRANSIT": "collection_time",
    "DELIVERED": "delivery_time",
    "CANCELLED": "cancel_time",
}
_NAMES = (
    "Budi Santoso",
    "Siti Rahayu",
    "Agus Wijaya",
    "Dewi Lestari",
    "Rina Kurniawati",
    "Andi Pratama",
)
_CITIES = (
    ("DKI Jakarta", "Jakarta Selatan", "Kebayoran Baru", "12160"),
    ("Jawa Barat", "Bandung", "Coblong", "40132"),
    ("Jawa Timur", "Surabaya", "Gubeng", "60281"),
    ("Bali", "Denpasar", "Denpasar Barat", "80119"),
)
_PAYMENT_METHODS = ("GoPay", "DANA", "OVO", "ShopeePay", "Bank Transfer", "COD")


def digits(rng: random.Random, prefix: str, length: int) -> str:
    """A random digit string of `length` characters starting with `prefix`."""
    return prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))


def money(value: Decimal) -> str:
    """Format an amount the way TikTok sends it: a plain decimal string."""
    return format(value, "f")


def _discounts(rng: random.Random, price: Decimal) -> tuple[Decimal, Decimal]:
    """A (seller, platform) discount for one unit: sometimes 10% off, sometimes a voucher."""
    seller = (price / 10 / 1000).to_integral_value() * 1000 if rng.random() < 0.3 else Decimal(0)
    platform = min(Decimal(5000), price - seller) if rng.random() < 0.2 else Decimal(0)
    return seller, platform


def line_items(rng: random.Random, products: Sequence[Product], package_id: str) -> list[Order]:
    """Line items for the given units (one unit per line; a SKU may repeat, priced alike)."""
    by_sku: dict[str, tuple[Decimal, Decimal]] = {}
    lines = []
    for product in products:
        seller, platform = by_sku.setdefault(product.sku, _discounts(rng, product.price))
        lines.append(
            {
                "id": digits(rng, "57", 18),
                "sku_id": product.sku_id,
                "product_id": product.product_id,
                "seller_sku": product.sku,
                "product_name": product.product_name,
                "sku_name": product.sku_name,
                "sku_image": "",
                "original_price": money(product.price),
                "sale_price": money(product.price - seller - platform),
                "seller_discount": money(seller),
                "platform_discount": money(platform),
                "currency": "IDR",
                "display_status": "UNPAID",
                "package_status": "TO_FULFILL",
                "package_id": package_id,
                "cancel_user": "",
                "cancel_reason": "",
                "is_gift": False,
            }
        )
    return lines


def payment(lines: Sequence[Order], shipping_fee: Decimal) -> dict[str, str]:
    """The order's `payment` block, computed over the lines that are not cancelled."""
    active = [ln for ln in lines if ln["display_status"] != "CANCELLED"]
    original = sum((Decimal(ln["original_price"]) for ln in active), Decimal(0))
    seller = sum((Decimal(ln["seller_discount"]) for ln in active), Decimal(0))
    platform = sum((Decimal(ln["platform_discount"]) for ln in active), Decimal(0))
    sub_total = original - seller - platform
    return {
        "currency": "IDR",
        "original_total_product_price": money(original),
        "seller_discount": money(seller),
        "platform_discount": money(platform),
        "sub_total": money(sub_total),
        "original_shipping_fee": "12000",
        "shipping_fee": money(shipping_fee),
        "shipping_fee_platform_discount": money(Decimal(12000) - shipping_fee),
        "shipping_fee_seller_discount": "0",
        "tax": "0",
        "total_amount": money(sub_total + shipping_fee),
    }


def address(rng: random.Random, name: str) -> Order:
    """A recipient address (masked the way platform logistics masks it)."""
    province, city, district, postal = rng.choice(_CITIES)
    street = f"Jl. Melati No. {rng.randint(1, 200)}"
    levels = [
        ("Country", "Indonesia"),
        ("Province", province),
        ("City", city),
        ("District", district),
    ]
    return {
        "name": name[0] + "***" + name[-1],
        "phone_number": f"(+62)8{rng.randint(10, 99)}****{rng.randint(1000, 9999)}",
        "full_address": f"{street}, {district}, {city}, {province}, {postal}",
        "address_detail": street,
        "postal_code": postal,
        "region_code": "ID",
        "district_info": [
            {"address_level": f"L{n}", "address_level_name": lvl, "address_name": value}
            for n, (lvl, value) in enumerate(levels)
        ],
    }


def new_order(
    rng: random.Random, order_id: str, products: Sequence[Product], now: int
) -> tuple[Order, Order]:
    """A fresh UNPAID order and the recipient address it will show once it is paid."""
    package_id = digits(rng, "11", 18)
    lines = line_items(rng, products, package_id)
    buyer = rng.choice(_NAMES)
    method = rng.choice(_PAYMENT_METHODS)
    order: Order = {
        "id": order_id,
        "status": "UNPAID",
        "create_time": now,
        "update_time": now,
        "user_id": digits(rng, "70", 19),
        "buyer_email": f"{digits(rng, 'v', 8)}@scs.tiktokw.us",
        "buyer_message": "",
        "is_cod": method == "COD",
        "is_on_hold_order": False,
        "payment_method_name": method,
        "shipping_type": "TIKTOK",
        "delivery_option_name": "Standard",
        "fulfillment_type": "FULFILLMENT_BY_SELLER",
        "warehouse_id": "7296000000000000001",
        "packages": [{"id": package_id}],
        "line_items": lines,
        "payment": payment(lines, Decimal(rng.choice((0, 9000, 12000)))),
    }
    return order, address(rng, buyer)


def set_status(order: Order, status: str, now: int, recipient: Order | None) -> None:
    """Move an order (and its live lines) to `status` at `now`, filling that status's fields."""
    order["status"] = status
    order["update_time"] = now
    stamp = _STAMPS.get(status)
    if stamp and stamp not in order:
        order[stamp] = now
    if status == "ON_HOLD":
        order["is_on_hold_order"] = True
    if status not in ("UNPAID", "ON_HOLD", "CANCELLED") and recipient is not None:
        order.setdefault("recipient_address", recipient)
    for line in order["line_items"]:
        if line["display_status"] != "CANCELLED":
            line["display_status"] = status
            line["package_status"] = _PACKAGE_STATUS[status]


def ship(order: Order, rng: random.Random) -> None:
    """Fill the carrier fields an order gets once shipment is arranged."""
    order.setdefault("shipping_provider", "J&T Express")
    order.setdefault("tracking_number", digits(rng, "JP", 14))


def cancel(order: Order, now: int, initiator: str, reason: str, recipient: Order | None) -> None:
    """Cancel the whole order."""
    for line in order["line_items"]:
        line["display_status"] = "CANCELLED"
        line["cancel_user"] = line["cancel_user"] or initiator
        line["cancel_reason"] = line["cancel_reason"] or reason
    set_status(order, "CANCELLED", now, recipient)
    order["cancellation_initiator"] = initiator
    order["cancel_reason"] = reason


def cancel_line(order: Order, index: int, now: int) -> str:
    """Cancel one line (a partial cancellation); recompute the payment; return the line id."""
    line = order["line_items"][index]
    line.update(
        display_status="CANCELLED",
        package_status="CANCELLED",
        cancel_user="SELLER",
        cancel_reason="Out of stock",
    )
    order["payment"] = payment(order["line_items"], Decimal(order["payment"]["shipping_fee"]))
    order["update_time"] = now
    return str(line["id"])


def new_return(
    rng: random.Random, order: Order, return_id: str, return_type: str, now: int
) -> Order:
    """A fresh return/refund request for some of an order's live lines."""
    live = [ln for ln in order["line_items"] if ln["display_status"] != "CANCELLED"]
    chosen = rng.sample(live, rng.randint(1, len(live)))
    subtotal = sum((Decimal(ln["sale_price"]) for ln in chosen), Decimal(0))
    return {
        "return_id": return_id,
        "order_id": order["id"],
        "return_type": return_type,
        "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
        "role": "BUYER",
        "return_reason_text": rng.choice(("Wrong size", "Damaged item", "Not as described")),
        "create_time": now,
        "update_time": now,
        "refund_amount": {
            "currency": "IDR",
            "refund_total": money(subtotal),
            "refund_subtotal": money(subtotal),
            "refund_shipping_fee": "0",
            "refund_tax": "0",
        },
        "return_line_items": [_return_line(rng, ln) for ln in chosen],
        "pre_return_id": "",
        "next_return_id": "",
    }


def _return_line(rng: random.Random, line: Order) -> Order:
    return {
        "return_line_item_id": digits(rng, "40", 18),
        "order_line_item_id": line["id"],
        "seller_sku": line["seller_sku"],
        "sku_name": line["sku_name"],
        "product_name": line["product_name"],
        "refund_amount": {"currency": "IDR", "refund_total": line["sale_price"]},
    }
