"""Plan an order's DealPOS calls and make them its unsent outbox rows: the one re-plan.

Recording and verify's repair plan an order from its snapshot (`replan_to_desired`: the invoice
TikTok's status calls for, from what the ledger and the calls in flight say DealPOS has). The
pusher plans again after a lookup showed what DealPOS really has (`replan_after`: from the state
found, to where the order's outbox rows were heading). Both end in `replan`, which swaps the
order's not-yet-sent rows for the fewest calls from the known state to the target.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync_job.domain.flow import (
    NOTHING,
    Action,
    InvoiceState,
    apply_action,
    desired_state,
    is_active_return,
    plan_actions,
    project,
)
from sync_job.domain.invoice import line_summary
from sync_job.domain.orders import Order
from sync_job.domain.outbox import IN_FLIGHT, PENDING, QUARANTINED
from sync_job.engine.shop import ShopContext
from sync_job.state.ledger import LedgerRow
from sync_job.state.outbox import OutboxRow
from sync_job.state.store import Store


@dataclass(frozen=True)
class PlannedChange:
    """One order whose desired invoice changed: from → to, and the calls that close the gap."""

    order_id: str
    known: InvoiceState
    desired: InvoiceState
    actions: tuple[Action, ...]


def replan(
    store: Store,
    shop_id: str,
    order_id: str,
    known: InvoiceState,
    target: InvoiceState,
    held: OutboxRow | None = None,
) -> list[Action]:
    """Make the order's unsent outbox rows the fewest calls from `known` to `target`.

    `held` is a quarantined row of the order: the new calls stay quarantined behind its refusal
    until `sync-job retry`.
    """
    actions = plan_actions(known, target)
    if held is None:
        store.replace_outbox(shop_id, order_id, actions, PENDING)
    else:
        store.replace_outbox(shop_id, order_id, actions, QUARANTINED, held.last_error)
    return actions


def desired_for(store: Store, shop: ShopContext, order: Order) -> InvoiceState | None:
    """The invoice a recorded order should have now, given its recorded returns (None: unknown)."""
    statuses = store.get_return_statuses(shop.shop_id, order.id)
    return desired_state(
        order.status,
        has_active_return=any(is_active_return(s) for s in statuses),
        mode=shop.mode,
        settle_always=shop.settle_always,
    )


def replan_to_desired(store: Store, shop: ShopContext, order: Order) -> PlannedChange | None:
    """Recompute a recorded order's desired invoice and re-plan its unsent outbox rows to it."""
    desired = desired_for(store, shop, order)
    if desired is None:
        _unknown_status(store, shop, order)
        return None
    ledger = store.get_ledger(shop.shop_id, order.id)
    rows = store.get_outbox_for_order(shop.shop_id, order.id)
    # Calls already sent (in flight) count as done: the pusher verifies them before anything else.
    known = project(
        ledger.state if ledger else NOTHING, [r.action for r in rows if r.state == IN_FLIGHT]
    )
    held = next((r for r in rows if r.state == QUARANTINED), None)
    actions = replan(store, shop.shop_id, order.id, known, desired, held)
    if held is not None and not actions:
        store.resolve_attention(shop.shop_id, "rejected", order.id)
    _check_manual_edits(store, shop, order, (known, desired), ledger)
    return PlannedChange(order.id, known, desired, tuple(actions))


def _unknown_status(store: Store, shop: ShopContext, order: Order) -> None:
    store.raise_attention(
        shop.shop_id,
        order.id,
        "unknown_status",
        f"{order.id}:{order.status}",
        f"order {order.id} has unknown status {order.status!r}: nothing was changed in DealPOS",
    )
    # Nothing in DealPOS while the status is unknown: not even calls an older copy planned.
    store.replace_outbox(shop.shop_id, order.id, [], PENDING)


def later_actions(store: Store, shop_id: str, row: OutboxRow) -> list[Action]:
    """The order's pending actions behind `row`, planned as if `row` had been done."""
    rows = store.get_outbox_for_order(shop_id, row.order_id)
    return [r.action for r in rows if r.id != row.id and r.state == PENDING]


def heading(known: InvoiceState, action: Action, later: list[Action]) -> InvoiceState:
    """Where `action` and the `later` actions behind it take an invoice that is at `known`."""
    return project(apply_action(known, action), later)


def replan_after(
    store: Store, shop_id: str, row: OutboxRow, known: InvoiceState, later: list[Action]
) -> list[Action]:
    """`row` is settled with DealPOS's invoice at `known`: drop it, and re-plan its order from
    there to where `row` and the `later` rows behind it were heading."""
    store.finish_action(row.id)
    return replan(store, shop_id, row.order_id, known, heading(known, row.action, later))


def _check_manual_edits(
    store: Store,
    shop: ShopContext,
    order: Order,
    change: tuple[InvoiceState, InvoiceState],
    ledger: LedgerRow | None,
) -> None:
    """Raise attention items the API cannot fix: late line cancels, paid then cancelled."""
    known, desired = change
    if known.existence != "active":
        return
    if desired.existence == "recycled" and known.payment == "Paid":
        store.raise_attention(
            shop.shop_id,
            order.id,
            "cancelled_after_paid",
            order.id,
            f"order {order.id} was cancelled after its invoice was marked Paid: "
            "the invoice goes to the recycle bin; check the payment by hand",
        )
    if desired.existence == "active" and ledger is not None and ledger.lines is not None:
        _check_cancelled_lines(store, shop, order, ledger)


def _check_cancelled_lines(
    store: Store, shop: ShopContext, order: Order, ledger: LedgerRow
) -> None:
    """Lines cancelled after the invoice was made: the API cannot edit them, a person can."""
    invoiced, now = ledger.lines or {}, line_summary(order)
    gone = {sku: n - now.get(sku, 0) for sku, n in invoiced.items()}
    text = ", ".join(f"{sku} x{n}" for sku, n in gone.items() if n > 0)
    if text:
        store.raise_attention(
            shop.shop_id,
            order.id,
            "partial_cancel",
            order.id,
            f"order {order.id}: lines cancelled after the invoice was made; "
            f"remove {text} from invoice {ledger.number} by hand",
        )
