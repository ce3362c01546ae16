"""JSON in and out with money kept exact: floats parse to Decimal, Decimals serialize as numbers."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_MARK = "\x00dec:"
_MARKED = re.compile(r'"\\u0000dec:(-?[0-9]+(?:\.[0-9]+)?)"')
_NUL = "\\u0000"  # how json writes the marker's first character (and any NUL in the data)
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


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Serialize to compact JSON; Decimals become exact JSON numbers (no float rounding)."""
    count = [0]

    def mark(item: Any) -> Any:
        # The encoder calls this only for what JSON cannot write itself: no walk over the value.
        if not isinstance(item, Decimal):
            raise TypeError(f"Object of type {type(item).__name__} is not JSON serializable")
        if not item.is_finite():
            return float(item)  # written as NaN / Infinity, like a float
        exponent = item.as_tuple().exponent  # an int: the value is finite
        if (
            isinstance(exponent, int)
            and exponent >= 0
            and not (item.is_zero() and item.is_signed())
        ):
            return int(item)  # a whole number: json writes the very digits format() would
        count[0] += 1
        return _MARK + format(item, "f")

    text = json.dumps(
        value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys, default=mark
    )
    nuls = text.count(_NUL)
    if nuls == 0:  # no Decimal and no NUL: nothing to unmark
        return text
    if nuls == count[0]:  # every NUL is a marker's: unmarking cannot touch the data
        return _MARKED.sub(r"\1", text)
    return _exact(value, sort_keys)


def _exact(value: Any, sort_keys: bool) -> str:
    """The slow way, for data holding NUL characters: write every Decimal in place."""
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else json.dumps(float(value))
    if isinstance(value, dict):
        items = sorted(value.items()) if sort_keys else value.items()
        return "{" + ",".join(f"{_key(k)}:{_exact(v, sort_keys)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_exact(v, sort_keys) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _key(key: Any) -> str:
    """An object key as json writes it: strings as they are; numbers, booleans, null as text."""
    return json.dumps(key if isinstance(key, str) else json.dumps(key), ensure_ascii=False)
