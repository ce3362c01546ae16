"""Validating TikTok payloads: malformed orders raise BadOrder with a reason."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sync_job.domain.orders import BadOrder, parse_order, parse_return
from tests.factories import line, order, ret


def test_good_order_parses_with_decimal_money() -> None:
    """Amounts become Decimal; ids stay strings."""
    o = parse_order(order(order_id="576461413038785752", lines=[line("A", "150000.50")]))
    assert o.id == "576461413038785752"
    assert o.line_items[0].original_price == Decimal("150000.50")


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda o: o.pop("id"), "id"),
        (lambda o: o.update(id=576461413038785752), "id"),
        (lambda o: o.update(status=None), "status"),
        (lambda o: o.update(update_time="yesterday"), "update_time"),
        (lambda o: o.update(line_items=[]), "no line items"),
        (lambda o: o.update(line_items=None), "no line items"),
        (lambda o: o["line_items"][0].update(original_price="abc"), "original_price"),
        (lambda o: o["line_items"][0].update(original_price=None), "original_price"),
        (lambda o: o["line_items"][0].update(seller_discount="NaN"), "seller_discount"),
        (lambda o: o.update(recipient_address="nope"), "recipient_address"),
        (lambda o: o.update(line_items=["x"]), "line item"),
    ],
)
def test_malformed_orders_are_rejected_with_a_reason(mutate: Any, reason: str) -> None:
    """Each kind of malformed payload gives BadOrder naming what is wrong."""
    data = order()
    mutate(data)
    with pytest.raises(BadOrder, match=reason):
        parse_order(data)


def test_unknown_fields_and_enum_values_are_tolerated() -> None:
    """Extra fields and unknown line statuses never crash parsing."""
    o = parse_order(order(something_new={"x": 1}, lines=[line(status="TO_SHIP")]))
    assert o.line_items[0].display_status == "TO_SHIP"


def test_long_strings_are_cut() -> None:
    """Very long free text is truncated, not stored whole."""
    o = parse_order(order(buyer_email="x" * 10_000))
    assert len(o.buyer_email) == 500


def test_return_parses() -> None:
    """A return keeps its id, order id, status and refund amount."""
    r = parse_return(ret("123", return_id="r1"))
    assert (r.return_id, r.order_id, r.refund_total) == ("r1", "123", Decimal("150000"))
