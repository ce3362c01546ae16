"""jsonutil: Decimal-exact JSON text both ways, whatever shape the number has."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sync_job.domain import jsonutil


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
    """Data holding NUL characters takes the slow path and still writes every Decimal exactly."""
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
