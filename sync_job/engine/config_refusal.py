"""Refusals that are the config's fault: stop the shop's push instead of quarantining every order.

When DealPOS refuses an action because the configured outlet, payment method or default customer
does not exist, every other order would be refused the same way, each costing a call and an
attention item. So the action is left pending, one attention item names the config key, and the
shop's push stops for this run (exit 1). An unknown SKU stays a matter of that one order.
"""

from __future__ import annotations

from typing import Final

from sync_job.dealpos.assumed import missing_config_record
from sync_job.domain.errors import ConfigRefused, Conflict, NotFound, PermanentError
from sync_job.engine.shop import ShopContext
from sync_job.state.outbox import OutboxRow
from sync_job.state.store import Store

ATTENTION_KIND: Final = "config"


def config_key(shop: ShopContext, kind: str) -> str:
    """The config key that names this outlet, payment method or customer (`outlet` is per shop)."""
    if kind == "outlet":
        return f"tiktok.shops (id {shop.shop_id}).outlet"
    return f"dealpos.{kind}"


def _detail(exc: PermanentError) -> str:
    """DealPOS's own words: the client's text is `DealPOS <call>: HTTP <n>: <message>`."""
    parts = str(exc).split(": ", 2)
    return parts[2] if len(parts) == 3 else str(exc)


def config_refusal(
    shop: ShopContext, action: str, order_id: str, exc: Exception
) -> ConfigRefused | None:
    """A ConfigRefused when `exc` says a configured name does not exist in DealPOS; else None."""
    if not isinstance(exc, PermanentError) or isinstance(exc, NotFound | Conflict):
        return None
    s = shop.settings
    names = {
        "outlet": s.outlet,
        "payment_method": s.payment_method,
        "default_customer": s.default_customer,
    }
    kind = missing_config_record(_detail(exc), names)
    if kind is None:
        return None
    key = config_key(shop, kind)
    return ConfigRefused(
        f"DealPOS refused the {action} of order {order_id}: {_detail(exc)}. That is the config, "
        f"not the order: fix {key} (`sync-job check` lists what DealPOS has). This shop's push "
        "stopped for this run; nothing was quarantined, the next run carries on.",
        key=key,
    )


def config_item_for(store: Store, shop_id: str, order_id: str) -> int | None:
    """The newest open config item a refusal of this order raised (its attention id), or None."""
    return store.newest_open_attention(shop_id, ATTENTION_KIND, order_id)


def stop_for_config(
    store: Store, shop: ShopContext, row: OutboxRow, refused: ConfigRefused
) -> None:
    """Leave the action pending and raise the one attention item that names the config key."""
    with store.transaction("stop for a config refusal"):
        store.mark_not_sent(row.id, str(refused))  # a refusal: certainly not applied
        store.raise_attention(shop.shop_id, row.order_id, ATTENTION_KIND, refused.key, str(refused))
