"""jsonutil: Decimal-exact JSON text both ways, whatever shape the number has."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_job.domain import jsonutil
from sync_job.engine.record import content_hash


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("59000"), "59000"),
        (Decimal("5.9E+4"), "59000"),
        (Decimal("0"), "0"),
        (Decimal("-0"), "-0"),
        (Decimal("-12"), "-12"),
        (Decimal("1.50"), "1.50"),
        (Decimal("-0.00"), "-0.00"),
        (Decimal("1E-3"), "0.001"),
    ],
)
def test_decimals_are_written_with_their_exact_digits(value: Decimal, text: str) -> None:
    """Whole numbers and fractions alike: the digits format(value, 'f') gives, never a float."""
    assert jsonutil.dumps({"a": value, "b": [value]}) == f'{{"a":{text},"b":[{text}]}}'


def test_decimals_next_to_nul_characters_stay_exact() -> None:
    """Data holding NUL characters (once a marker's first character) keeps every Decimal exact."""
    value = {"name": "a\x00b", "price": Decimal("10.10"), "qty": Decimal("3")}
    text = jsonutil.dumps(value)
    assert text == '{"name":"a\\u0000b","price":10.10,"qty":3}'
    assert jsonutil.loads(text) == value


def test_bytes_and_text_parse_alike_with_decimals() -> None:
    """UTF-8 bytes (as requests gives them) and text give the same values; floats never appear."""
    text = '{"x": 1.10, "n": 2, "s": "caf\\u00e9 \\ud83d"}'
    for source in (text, text.encode()):
        parsed = jsonutil.loads(source)
        assert parsed == {"x": Decimal("1.10"), "n": 2, "s": "café \ufffd"}
        assert isinstance(parsed["x"], Decimal)


# A payload with every number shape, odd strings and nesting; its hash as stored by every release
# so far. A change of JSON library must not change it, or every stored order would look changed.
PAYLOAD = {
    "id": "576461413038785752",
    "status": "IN_TRANSIT",
    "update_time": 1764000000,
    "buyer_message": 'tolong cepat \u2028 café 😀 \x00 "quoted" \\ back/slash',
    "payment": {
        "total_amount": "150000",
        "tax": Decimal("0.0000001"),
        "fee": Decimal("1.50"),
        "rebate": Decimal("-0"),
        "big": Decimal("5.9E+4"),
        "neg": Decimal("-0.00"),
        "round": Decimal("1E+2"),
    },
    "line_items": [
        {"id": "li-1", "original_price": Decimal("1000.10"), "qty": 2, "ratio": 0.25, "ok": True,
         "none": None}
    ],
}  # fmt: skip


def test_content_hash_of_a_stored_payload_is_unchanged() -> None:
    """The hash (and so the canonical text) is byte-identical to what earlier releases stored."""
    assert content_hash(PAYLOAD) == "fa85ea14ac88d944cfe0d25617b9e84f"


@pytest.mark.parametrize(
    ("value", "text"),
    [(Decimal("NaN"), "NaN"), (Decimal("-Infinity"), "-Infinity"), (Decimal("sNaN"), "NaN")],
)
def test_non_finite_decimals_are_written_like_floats(value: Decimal, text: str) -> None:
    """NaN and infinities come out as the standard library writes a float's."""
    assert jsonutil.dumps([value]) == f"[{text}]"


_PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
)


@given(_PLAIN, st.booleans())
def test_without_decimals_the_text_is_the_standard_librarys(value: Any, sort: bool) -> None:
    """Strings (any character), floats, ints, nesting: the same bytes json.dumps writes."""
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort)
    assert jsonutil.dumps(value, sort_keys=sort) == expected
