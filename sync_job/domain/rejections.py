"""Explain a DealPOS refusal of an order in terms a merchant can act on. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping

from sync_job.domain.orders import Order


def bundle_hint(order: Order, refusal: str, sku_map: Mapping[str, str]) -> str | None:
    """What to do when DealPOS refused a code that is a TikTok virtual bundle, else None.

    TikTok bills a bundle ("combined listing") as one line under the bundle's own seller_sku, a
    code DealPOS only knows as a Composite variant; a missing one is refused like any unknown SKU.
    """
    for line in order.active_lines:
        if not line.bundle_components or not line.seller_sku:
            continue
        code = sku_map.get(line.seller_sku, line.seller_sku)
        if code in refusal:
            return (
                f"{code} is a TikTok virtual bundle ({', '.join(line.bundle_components)}): "
                f"create a Composite variant with code {code} in DealPOS, or map it to an "
                f'existing code with a [sku_map] line "{line.seller_sku}" = "CODE"'
            )
    return None
