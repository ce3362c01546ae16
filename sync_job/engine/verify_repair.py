"""`verify --repair`: fixable findings become outbox actions, the rest attention items.

Nothing here calls DealPOS. A fixable finding first corrects the ledger to what DealPOS showed
(no invoice at all, or the listed state), then the order is planned again exactly as recording
plans it, so the next push makes the calls with the usual pacing, lookups and exactly-once rules.
"""

from __future__ import annotations

from dataclasses import replace

from sync_job.domain.invoice import line_summary
from sync_job.domain.orders import BadOrder, Order, parse_order
from sync_job.engine.plan import replan_to_desired
from sync_job.engine.shop import ShopContext
from sync_job.engine.verify import Finding
from sync_job.engine.verify_shop import ShopVerify
from sync_job.state.ledger import LedgerRow
from sync_job.state.store import Store
from sync_job.state.verifications import open_verify_items


def repair(store: Store, shop: ShopContext, result: ShopVerify) -> None:
    """Plan every fixable drift finding of `result`; raise an attention item for the others."""
    with store.transaction("put repairs in the outbox"):
        for finding in result.drift:
            if finding.fixable and _replan(store, shop, finding):
                result.repaired += 1
            else:
                _raise_attention(store, shop.shop_id, finding)
                result.raised += 1


def resolve_gone(store: Store, shop_id: str, result: ShopVerify) -> None:
    """Close the attention items earlier verifies raised for drift this verify no longer finds
    (a person fixed it in DealPOS); only for orders and invoices this verify looked at."""
    still = {(f"verify_{f.kind}", attention_key(f)) for f in result.drift}
    with store.transaction("resolve drift a person fixed"):
        for kind, key in open_verify_items(store, shop_id):
            if key in result.checked and (kind, key) not in still:
                store.resolve_attention(shop_id, kind, key)
                result.resolved += 1


def attention_key(finding: Finding) -> str:
    """The key of a finding's attention item: its order id (a hand-typed invoice: its number)."""
    return finding.order_id or finding.number


def _replan(store: Store, shop: ShopContext, finding: Finding) -> bool:
    """Correct the ledger to DealPOS's word and plan the order again; False when nothing to do."""
    try:
        order = parse_order(store.get_order_raw(shop.shop_id, finding.order_id))
    except BadOrder:
        return False
    _correct_ledger(store, shop, order, finding)
    # An invoice the job had settled (a download run) is planned back to paid, not left unpaid.
    paid = finding.target is not None and finding.target.payment == "Paid"
    plan = replan_to_desired(store, replace(shop, mode="download") if paid else shop, order)
    return plan is not None and bool(plan.actions)


def _correct_ledger(store: Store, shop: ShopContext, order: Order, finding: Finding) -> None:
    if finding.seen is None:  # missing: DealPOS has no invoice at all any more
        store.drop_ledger(shop.shop_id, order.id)
        return
    ledger = store.get_ledger(shop.shop_id, order.id)
    lines = ledger.lines if ledger and ledger.lines else line_summary(order)
    seen = finding.seen
    store.put_ledger(shop.shop_id, order.id, LedgerRow(seen.number, seen.id, seen.state, lines))


def _raise_attention(store: Store, shop_id: str, finding: Finding) -> None:
    order = finding.order_id or "(none)"
    message = (
        f"verify: {finding.kind} for order {order}, invoice {finding.number or '?'}: "
        f"expected {finding.expected}, DealPOS has {finding.actual}; check it in DealPOS by hand"
    )
    store.raise_attention(
        shop_id,
        finding.order_id,
        f"verify_{finding.kind}",
        attention_key(finding),
        message,
        {"expected": finding.expected, "actual": finding.actual},
    )
