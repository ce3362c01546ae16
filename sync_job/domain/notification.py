"""TikTok Shop webhook notifications: parse the body into the few fields the job acts on.

The notification is only a hint that an order changed: its `order_status` is never used (it says
`CANCEL` where the API says `CANCELLED`); the order is fetched by id and that copy is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync_job.domain import jsonutil

ORDER_STATUS_CHANGE = 1
CANCELLATION_STATUS_CHANGE = 11
RETURN_STATUS_CHANGE = 12
# The types that name an order to fetch (a return: its order; the return itself comes by polling).
ORDER_TYPES = frozenset({ORDER_STATUS_CHANGE, CANCELLATION_STATUS_CHANGE, RETURN_STATUS_CHANGE})
EVENT_NAMES = {
    ORDER_STATUS_CHANGE: "ORDER_STATUS_CHANGE",
    CANCELLATION_STATUS_CHANGE: "CANCELLATION_STATUS_CHANGE",
    RETURN_STATUS_CHANGE: "RETURN_STATUS_CHANGE",
}


class BadNotification(ValueError):
    """The body is not JSON, or lacks what every notification has (`type`)."""


@dataclass(frozen=True)
class Notification:
    """What the job keeps of one webhook delivery."""

    notification_id: str
    type: int
    shop_id: str
    timestamp: int | None  # when TikTok sent it (Unix seconds), for the lag figure
    order_id: str | None  # None for types that name no order

    @property
    def names_order(self) -> bool:
        """True when this notification asks for an order to be fetched."""
        return self.type in ORDER_TYPES and self.order_id is not None


def _text_id(value: Any) -> str | None:
    """An id as a string (TikTok sends ids as strings; numbers are accepted too)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str) and str(value).strip():
        return str(value).strip()
    return None


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def parse_notification(body: bytes) -> Notification:
    """Parse a raw notification body; raise BadNotification when it is unusable."""
    try:
        data = jsonutil.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadNotification(f"not JSON: {exc.__class__.__name__}") from None
    if not isinstance(data, dict):
        raise BadNotification("not a JSON object")
    kind = _integer(data.get("type"))
    if kind is None:
        raise BadNotification("no integer `type`")
    notification_id = _text_id(data.get("tts_notification_id"))
    shop_id = _text_id(data.get("shop_id"))
    if notification_id is None or shop_id is None:
        raise BadNotification("no `tts_notification_id` or `shop_id`")
    inner = data.get("data")
    order_id = _text_id(inner.get("order_id")) if isinstance(inner, dict) else None
    return Notification(notification_id, kind, shop_id, _integer(data.get("timestamp")), order_id)
