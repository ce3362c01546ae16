"""Error codes and request-parameter checks of the TikTok Shop simulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync_job.domain import jsonutil
from sync_job.sandbox.server import Request

CODE_BAD_SIGNATURE = 106001
CODE_TOKEN_EXPIRED = 105002
CODE_RATE_LIMITED = 36009002
CODE_INTERNAL = 36009003
CODE_CATCH_ALL = 36009004

SORT_FIELDS = ("create_time", "update_time")
TIME_FILTERS = ("create_time_ge", "create_time_lt", "update_time_ge", "update_time_lt")
# returns-search list filter -> the field of a return record it matches
RETURN_LISTS = {
    "order_ids": "order_id",
    "return_ids": "return_id",
    "return_types": "return_type",
    "return_status": "return_status",
}


class ApiError(Exception):
    """An error answer: HTTP status plus TikTok's `code` and `message`."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad_request(message: str) -> ApiError:
    """A parameter problem: the catch-all code with a message naming the parameter."""
    return ApiError(400, CODE_CATCH_ALL, message)


def json_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object ({} when empty)."""
    if not request.body.strip():
        return {}
    try:
        body = jsonutil.loads(request.body)
    except ValueError as err:
        raise bad_request("request body is not valid JSON") from err
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object")
    return body


def time_filters(body: Mapping[str, Any]) -> dict[str, int]:
    """The `*_ge` / `*_lt` time bounds given in a search body (Unix seconds)."""
    out = {}
    for key in TIME_FILTERS:
        value = body.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(f"{key} must be an integer (Unix seconds)")
        out[key] = value
    return out


def list_filters(body: Mapping[str, Any]) -> dict[str, list[str]]:
    """The list filters of a returns-search body."""
    out = {}
    for key in RETURN_LISTS:
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad_request(f"{key} must be a list of strings")
        out[key] = value
    return out


def in_window(item: Mapping[str, Any], bounds: Mapping[str, int]) -> bool:
    """Whether an item's times satisfy every bound (`_ge` inclusive, `_lt` exclusive)."""
    for key, bound in bounds.items():
        field, op = key.rsplit("_", 1)
        value = int(item.get(field) or 0)
        if (op == "ge" and value < bound) or (op == "lt" and value >= bound):
            return False
    return True


def in_lists(item: Mapping[str, Any], lists: Mapping[str, list[str]]) -> bool:
    """Whether a return record matches every list filter."""
    return all(str(item.get(RETURN_LISTS[k], "")) in allowed for k, allowed in lists.items())


def sorting(query: Mapping[str, str], max_size: int, default_order: str) -> tuple[int, str, str]:
    """Read (page_size, sort_field, sort_order); page_size is required."""
    raw = query.get("page_size") or ""
    if not raw:
        raise bad_request("page_size is required")
    if not raw.isdigit() or not 1 <= int(raw) <= max_size:
        raise bad_request(f"page_size must be between 1 and {max_size}")
    field = query.get("sort_field") or "create_time"
    if field not in SORT_FIELDS:
        raise bad_request(f"invalid sort_field: {field}")
    order = query.get("sort_order") or default_order
    if order not in ("ASC", "DESC"):
        raise bad_request(f"invalid sort_order: {order}")
    return int(raw), field, order
