"""Reading HTTP response headers both API clients rely on: one header by name, and Retry-After."""

from __future__ import annotations

import math
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

__all__ = ["header", "parse_retry_after"]


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """Return a header's value by case-insensitive name, or None."""
    if not headers:
        return None
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Turn a Retry-After value (seconds or HTTP-date) into seconds from `now` (wall clock);
    None when absent or unreadable, never negative."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    seconds: float | None
    try:
        seconds = float(text)
    except ValueError:
        seconds = _seconds_until_http_date(text, now)
    if seconds is None or math.isnan(seconds):
        return None
    return max(seconds, 0.0)


def _seconds_until_http_date(text: str, now: float) -> float | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are always GMT
        return None
    return when.timestamp() - now
