"""How a DealPOS refusal of a TikTok virtual bundle's code is explained to the merchant."""

from __future__ import annotations

from typing import Any

from sync_job.domain.orders import parse_order
from sync_job.domain.rejections import bundle_hint


def _order(lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "576",
        "status": "AWAITING_SHIPMENT",
        "update_time": 1_700_000_000,
        "line_items": lines,
    }


BUNDLE_LINE = {
    "id": "1",
    "seller_sku": "GIFTSET-01",
    "original_price": "100000",
    "product_name": "Gift set",
    "combined_listing_skus": [
        {"seller_sku": "MUG-RED", "sku_count": 2},
        {"seller_sku": "TEA-50G", "sku_count": 1},
    ],
}
PLAIN_LINE = {"id": "2", "seller_sku": "MUG-RED", "original_price": "30000"}


def test_a_refused_bundle_code_gets_the_composite_variant_hint() -> None:
    """The hint names the bundle, its components and both ways out."""
    order = parse_order(_order([BUNDLE_LINE, PLAIN_LINE]))
    hint = bundle_hint(order, "Variant GIFTSET-01 not found", {})
    assert hint is not None
    assert "GIFTSET-01 is a TikTok virtual bundle (MUG-RED x2, TEA-50G x1)" in hint
    assert "Composite variant with code GIFTSET-01" in hint
    assert '[sku_map] line "GIFTSET-01" = "CODE"' in hint


def test_the_hint_follows_the_sku_map() -> None:
    """DealPOS refuses the mapped code, so that is the code the hint must look for and name."""
    order = parse_order(_order([BUNDLE_LINE]))
    assert bundle_hint(order, "Variant GIFTSET-01 not found", {"GIFTSET-01": "GS1"}) is None
    hint = bundle_hint(order, "Variant GS1 not found", {"GIFTSET-01": "GS1"})
    assert hint is not None and "Composite variant with code GS1" in hint


def test_no_hint_for_an_ordinary_line_or_malformed_components() -> None:
    """Only a line with bundle components is a bundle; junk in the field is ignored."""
    junk = {**PLAIN_LINE, "id": "3", "seller_sku": "X1", "combined_listing_skus": "nope"}
    order = parse_order(_order([PLAIN_LINE, junk]))
    assert bundle_hint(order, "Variant MUG-RED not found", {}) is None
    assert bundle_hint(order, "Variant X1 not found", {}) is None
