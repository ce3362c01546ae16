"""Every DealPOS behaviour the spec marks ASSUMED (not in public material), in one place.

Correct these against a live tenant; nothing else in the client guesses at DealPOS's answers.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "error_message",
    "is_duplicate",
    "missing_config_record",
    "retry_after_from_message",
]

# ASSUMED: error bodies are {"Message": "..."}; ASP.NET-style "message"/"error" keys are read too.
_MESSAGE_KEYS = ("Message", "message", "error_description", "error", "title")

# ASSUMED: a second create with the same Outlet + Number is a 409, or a 400 saying so in words.
_DUPLICATE_WORDS = re.compile(
    r"already\s+exist|duplicate|already\s+(?:been\s+)?used", re.IGNORECASE
)

# ASSUMED: a 429 body's Message may name the wait ("try again in 42 seconds"). A number after
# "per" is the window's length ("50 per 180 seconds"), not the wait, so it is skipped.
_WAIT_PHRASE = re.compile(
    r"(?:in|after|wait)\s+(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?)?\b", re.IGNORECASE
)
_SECONDS = re.compile(r"(?<!per )(?<!\d)(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?)\b", re.IGNORECASE)


def error_message(body: Any) -> str | None:
    """Return DealPOS's error message from a parsed error body, or None when it has none."""
    if isinstance(body, str) and body.strip():
        return body.strip()
    if not isinstance(body, dict):
        return None
    for key in _MESSAGE_KEYS:
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def is_duplicate(status: int, message: str | None) -> bool:
    """Tell whether a rejected create means "this Outlet + Number already exists"."""
    if status == 409:
        return True
    return status == 400 and message is not None and bool(_DUPLICATE_WORDS.search(message))


def retry_after_from_message(message: str | None) -> float | None:
    """Read a wait in seconds out of a 429 body's message, or None when it names none."""
    if not message:
        return None
    match = _WAIT_PHRASE.search(message) or _SECONDS.search(message)
    return float(match.group(1)) if match else None


# ASSUMED: a refusal because a named record does not exist names it and says so:
# "Outlet 'X' not found", "Payment method 'X' not found", "Customer 'X' not found".
_MISSING_WORDS = re.compile(
    r"not\s+found|does\s*n[o']t\s+exist|not\s+exist|no\s+such|unknown", re.IGNORECASE
)
# A refusal about a product line is the order's own problem (an unknown SKU), never the config's.
_ORDER_WORDS = re.compile(r"variant|sku|product|item", re.IGNORECASE)
_KIND_WORDS = {
    "outlet": re.compile(r"outlet", re.IGNORECASE),
    "payment_method": re.compile(r"payment|method", re.IGNORECASE),
    "default_customer": re.compile(r"customer", re.IGNORECASE),
}


def missing_config_record(message: str | None, names: dict[str, str]) -> str | None:
    """The configured record (outlet, payment_method, default_customer) a refusal says is missing.

    `names` maps each kind to its configured name; None when the refusal is about anything else.
    """
    if not message or _ORDER_WORDS.search(message) or not _MISSING_WORDS.search(message):
        return None
    folded = message.casefold()
    for kind, name in names.items():
        if name and name.casefold() in folded and _KIND_WORDS[kind].search(message):
            return kind
    return None
