"""JSON in and out with money kept exact: floats parse to Decimal, Decimals serialize as numbers."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import simplejson

# A lone UTF-16 surrogate cannot be written as UTF-8. JSON text brings one as a "\ud83d" escape
# (half an emoji cut by the sender), or as its raw CESU bytes, which json accepts.
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_BYTES = re.compile(rb"\xed[\xa0-\xbf]")
# A high escape without a low one after it, or a low one without a high one before it (a pair is
# one character and does no harm). Starts with a literal, so the search skips along quickly.
_LONE_ESCAPE = (
    r"\\u[dD](?:[89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD])[c-fC-F])"
)
_LONE_TEXT, _LONE_BYTES = re.compile(_LONE_ESCAPE), re.compile(_LONE_ESCAPE.encode())


_DECODER = json.JSONDecoder(parse_float=Decimal)  # built once: json.loads(...) builds one per call


def loads(text: str | bytes) -> Any:
    """Parse JSON, turning every non-integer number into a Decimal (never a float).

    Lone surrogates become U+FFFD, so every string parsed can later be stored and sent as UTF-8.
    """
    if isinstance(text, bytes | bytearray):
        text = text.decode(json.detect_encoding(text), "surrogatepass")  # as json.loads does
    value = _DECODER.decode(text)
    return _clean(value) if _may_hold_surrogates(text) else value


def _may_hold_surrogates(text: str | bytes) -> bool:
    if isinstance(text, bytes):
        return bool(
            (b"\\u" in text and _LONE_BYTES.search(text))
            or (b"\xed" in text and _SURROGATE_BYTES.search(text))
        )
    return bool(
        ("\\u" in text and _LONE_TEXT.search(text))
        or (not text.isascii() and _SURROGATE.search(text))
    )


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _exact_number(item: Any) -> simplejson.RawJSON:
    """Write a Decimal as its exact digits: whole numbers as integers, others as format 'f'.

    The text is the same as the job has always written (content hashes of stored orders stay
    valid, DealPOS never sees exponent notation such as 1E+2 that `use_decimal=True` would give).
    """
    if not isinstance(item, Decimal):
        raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")
    if not item.is_finite():  # written as a float's would be: NaN, Infinity, -Infinity
        return simplejson.RawJSON("NaN" if item.is_nan() else str(item))
    exponent = item.as_tuple().exponent  # an int: the value is finite
    whole = (
        isinstance(exponent, int) and exponent >= 0 and not (item.is_zero() and item.is_signed())
    )
    return simplejson.RawJSON(str(int(item)) if whole else format(item, "f"))


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Serialize to compact JSON; Decimals become exact JSON numbers (no float rounding)."""
    return simplejson.dumps(
        value,
        separators=(",", ":"),
        ensure_ascii=False,
        sort_keys=sort_keys,
        default=_exact_number,
        use_decimal=False,  # Decimals go to _exact_number (see there why)
        namedtuple_as_object=False,  # as the standard library writes them: arrays
        allow_nan=True,  # NaN / Infinity as JavaScript writes them, like the standard library
    )
