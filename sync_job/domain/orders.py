"""Parse raw TikTok order and return payloads into typed, validated values.

Anything malformed raises `BadOrder` with a reason a person can act on; the caller quarantines
that one order and carries on with the rest of the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_TEXT = 500  # longer free text is cut: DealPOS fields are short and logs must stay readable
# Beyond these a value is garbage: SQLite, calendar dates and invoice arithmetic would fail on it.
MAX_TIMESTAMP = 4_102_444_800  # 2100-01-01
MAX_AMOUNT = Decimal(10) ** 15


class BadOrder(ValueError):
    """A TikTok payload that cannot be mirrored as it is."""


@dataclass(frozen=True)
class LineItem:
    """One unit of one SKU (TikTok has no quantity field: each line item is one unit)."""

    id: str
    seller_sku: str | None
    name: str
    original_price: Decimal
    seller_discount: Decimal
    display_status: str
    # A TikTok virtual bundle ("combined listing") sells several SKUs under the bundle's own
    # seller_sku: these are the components as "sku x count"; empty for an ordinary line.
    bundle_components: tuple[str, ...] = ()


@dataclass(frozen=True)
class Order:
    """The fields of a TikTok order that the mirror uses."""

    id: str
    status: str
    update_time: int
    create_time: int
    paid_time: int | None
    collection_time: int | None
    buyer_email: str
    recipient_name: str
    phone: str
    shipping_fee: Decimal
    line_items: tuple[LineItem, ...]

    @property
    def active_lines(self) -> tuple[LineItem, ...]:
        """Line items that are not cancelled (cancelled lines are left off the invoice)."""
        return tuple(li for li in self.line_items if li.display_status != "CANCELLED")


@dataclass(frozen=True)
class Return:
    """A TikTok return/refund request, as far as the mirror needs it."""

    return_id: str
    order_id: str
    return_type: str
    return_status: str
    update_time: int
    reason: str
    refund_total: Decimal | None
    currency: str
    skus: tuple[str, ...]


def _text(raw: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise BadOrder(f"field '{key}' is missing")
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise BadOrder(f"field '{key}' is not text: {type(value).__name__}")
    return str(value)[:MAX_TEXT]


def _time(raw: Mapping[str, Any], key: str, *, required: bool = False) -> int | None:
    value = raw.get(key)
    if value is None or value == 0:
        if required:
            raise BadOrder(f"field '{key}' is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_TIMESTAMP:
        raise BadOrder(f"field '{key}' is not a Unix timestamp: {str(value)[:40]!r}")
    return value


def _money(raw: Mapping[str, Any], key: str, *, default: str | None = "0") -> Decimal:
    value = raw.get(key)
    if value is None or value == "":
        if default is None:
            raise BadOrder(f"amount '{key}' is missing")
        return Decimal(default)
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise BadOrder(f"amount '{key}' is not a decimal string: {str(value)[:40]!r}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise BadOrder(f"amount '{key}' is not a number: {str(value)[:40]!r}") from None
    if not amount.is_finite() or not 0 <= amount < MAX_AMOUNT:
        raise BadOrder(f"amount '{key}' is not a plausible amount: {str(value)[:40]!r}")
    return amount


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadOrder(f"{what} is not an object")
    return value


def parse_line_item(raw: Any) -> LineItem:
    """Validate one line item."""
    item = _mapping(raw, "a line item")
    name = _text(item, "product_name") or _text(item, "sku_name")
    return LineItem(
        id=_text(item, "id"),
        seller_sku=_text(item, "seller_sku") or None,
        name=name,
        original_price=_money(item, "original_price", default=None),
        seller_discount=_money(item, "seller_discount"),
        display_status=_text(item, "display_status") or "UNKNOWN",
        bundle_components=_bundle_components(item.get("combined_listing_skus")),
    )


def _bundle_components(value: Any) -> tuple[str, ...]:
    """The components of a virtual bundle line; anything malformed is simply not a bundle."""
    if not isinstance(value, list):
        return ()
    parts = []
    for component in value:
        if isinstance(component, Mapping) and component.get("seller_sku"):
            count = component.get("sku_count")
            parts.append(f"{str(component['seller_sku'])[:MAX_TEXT]} x{count or 1}")
    return tuple(parts)


def _order_id(raw: Mapping[str, Any]) -> str:
    value = raw.get("id")
    # Ids are 18-19 digit strings; an int here would have lost nothing yet but is still wrong.
    if not isinstance(value, str) or not value.strip():
        raise BadOrder("field 'id' is missing or not a string")
    if len(value) > 64:
        raise BadOrder("field 'id' is too long")
    return value


def parse_order(raw: Any) -> Order:
    """Validate a raw TikTok order object; raise BadOrder naming the first problem."""
    data = _mapping(raw, "the order")
    lines = data.get("line_items")
    if not isinstance(lines, list) or not lines:
        raise BadOrder("the order has no line items")
    address = _mapping(data.get("recipient_address"), "recipient_address")
    payment = _mapping(data.get("payment"), "payment")
    return Order(
        id=_order_id(data),
        status=_text(data, "status", required=True),
        update_time=_time(data, "update_time", required=True) or 0,
        create_time=_time(data, "create_time") or 0,
        paid_time=_time(data, "paid_time"),
        collection_time=_time(data, "collection_time"),
        buyer_email=_text(data, "buyer_email"),
        recipient_name=_text(address, "name"),
        phone=_text(address, "phone_number"),
        shipping_fee=_money(payment, "shipping_fee"),
        line_items=tuple(parse_line_item(li) for li in lines),
    )


def order_id_of(raw: Any) -> str:
    """Best-effort order id of a payload that may be malformed (for its attention item)."""
    if isinstance(raw, Mapping) and isinstance(raw.get("id"), (str, int)):
        return str(raw["id"])[:64]
    return ""


def parse_return(raw: Any) -> Return:
    """Validate a raw TikTok return/refund object; raise BadOrder naming the first problem."""
    data = _mapping(raw, "the return")
    refund = _mapping(data.get("refund_amount"), "refund_amount")
    lines = data.get("return_line_items") or []
    if not isinstance(lines, list):
        raise BadOrder("return_line_items is not a list")
    total = refund.get("refund_total")
    return Return(
        return_id=_text(data, "return_id", required=True),
        order_id=_text(data, "order_id", required=True),
        return_type=_text(data, "return_type"),
        return_status=_text(data, "return_status", required=True),
        update_time=_time(data, "update_time", required=True) or 0,
        reason=_text(data, "return_reason_text"),
        refund_total=None if total in (None, "") else _money(refund, "refund_total"),
        currency=_text(refund, "currency"),
        skus=tuple(_text(_mapping(li, "a return line"), "seller_sku") for li in lines),
    )


# Exactly the fields parse_order reads: retention keeps these of an old finished order.
_ORDER_KEYS = ("id", "status", "update_time", "create_time", "paid_time", "collection_time",
               "buyer_email")  # fmt: skip
_LINE_KEYS = ("id", "product_name", "sku_name", "seller_sku", "original_price", "seller_discount",
              "display_status", "combined_listing_skus")  # fmt: skip


def slim_order(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a raw order parse_order reads: parse_order(slim_order(r)) == parse_order(r)."""
    slim = {k: raw[k] for k in _ORDER_KEYS if k in raw}
    address, payment = raw.get("recipient_address"), raw.get("payment")
    if isinstance(address, Mapping):
        slim["recipient_address"] = {
            k: address[k] for k in ("name", "phone_number") if k in address
        }
    if isinstance(payment, Mapping) and "shipping_fee" in payment:
        slim["payment"] = {"shipping_fee": payment["shipping_fee"]}
    lines = raw.get("line_items")
    if isinstance(lines, list):
        slim["line_items"] = [
            {k: li[k] for k in _LINE_KEYS if k in li} if isinstance(li, Mapping) else li
            for li in lines
        ]
    return slim
