"""JSON in and out with money kept exact: floats parse to Decimal, Decimals serialize as numbers."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

_MARK = "\x00dec:"
_MARKED = re.compile(r'"\\u0000dec:(-?[0-9]+(?:\.[0-9]+)?)"')


def loads(text: str | bytes) -> Any:
    """Parse JSON, turning every non-integer number into a Decimal (never a float)."""
    return json.loads(text, parse_float=Decimal)


def _mark(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _MARK + format(value, "f")
    if isinstance(value, dict):
        return {k: _mark(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mark(v) for v in value]
    return value


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Serialize to compact JSON; Decimals become exact JSON numbers (no float rounding)."""
    text = json.dumps(_mark(value), separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
    return _MARKED.sub(r"\1", text)
