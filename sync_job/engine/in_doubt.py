"""Settle an action whose answer was lost: look the invoice up, take DealPOS's word, re-plan.

An action in doubt (its call left, no answer came back), or refused in a way that may mean
"already done" (a 409 on a create; a 400 on a send, pay or delete), is looked up before anything
is repeated (`resolve.py` finds the invoice). What DealPOS has goes into the ledger; when the
action already holds, the order is re-planned from there. A create that never landed is re-planned
from no invoice, but only once a slow create can no longer land behind our back.
"""

from __future__ import annotations

from typing import Literal

import structlog

from sync_job.dealpos.wire import InvoiceView
from sync_job.domain.errors import PermanentError, TransientError
from sync_job.domain.flow import NOTHING, RECYCLED, Action, InvoiceState
from sync_job.domain.invoice import line_summary
from sync_job.domain.orders import Order
from sync_job.engine.plan import heading, later_actions, replan_after
from sync_job.engine.push_types import PushDeps
from sync_job.engine.resolve import find_order_invoice
from sync_job.state.ledger import LedgerRow
from sync_job.state.outbox import OutboxRow
from sync_job.state.tenant import renumbers

log = structlog.get_logger(__name__)

# adopted: DealPOS already has the action's effect (ledger and plan updated, row gone);
# replanned: a create never landed and the order's new plan replaced it;
# needed: the call must still be made (the ledger now says what DealPOS has).
Lookup = Literal["adopted", "replanned", "needed"]


def achieved(action: Action, state: InvoiceState) -> bool:
    """True when an invoice in `state` already shows what `action` would have done."""
    if action.kind == "create":
        return state.existence != "none"
    if action.kind == "send":
        return state.fulfillment == "Sent" or state.existence == "recycled"
    if action.kind == "pay":
        return state.payment == "Paid"
    return state.existence == "recycled"


def resolve_in_doubt(deps: PushDeps, row: OutboxRow, order: Order) -> Lookup:
    """Look the order's invoice up and settle `row` by what DealPOS has."""
    kind = row.action.kind
    ledger = deps.store.get_ledger(deps.shop.shop_id, order.id)
    number = ledger.number if ledger else deps.shop.settings.number_for(order.id)
    # A create in doubt looks for the invoice it made, never an earlier (recycled) one.
    found = find_order_invoice(
        deps.dealpos, deps.store, deps.shop, order, None if kind == "create" else ledger
    )
    view = found.invoice
    if view is None:
        return _absent(deps, row, order, number)
    reference = view.reference or order.id
    if reference != order.id:
        raise PermanentError(f"invoice number {number} already belongs to order {reference}")
    if found.others:
        _two_invoices(deps, order, view, found.others)
    state = view.state()
    done = achieved(row.action, state)
    _adopt(deps, row, order, LedgerRow(view.number or number, view.id or None, state, None), done)
    return "adopted" if done else "needed"


def _absent(deps: PushDeps, row: OutboxRow, order: Order, number: str) -> Lookup:
    """DealPOS has no invoice for the order."""
    kind = row.action.kind
    if kind == "delete":  # erased, not recycled (some tenants): the delete holds
        _adopt(deps, row, order, LedgerRow(number, None, RECYCLED, None), True)
        return "adopted"
    if kind != "create":
        raise PermanentError(f"invoice {number} is not in DealPOS any more")
    return _replan_never_created(deps, row, order)


def _two_invoices(
    deps: PushDeps, order: Order, kept: InvoiceView, others: list[InvoiceView]
) -> None:
    """More than one invoice for the order: the oldest is kept; a person removes the rest."""
    extra = ", ".join(v.number for v in others)
    deps.store.raise_attention(
        deps.shop.shop_id,
        order.id,
        "duplicate_invoice",
        order.id,
        f"order {order.id} has {len(others) + 1} invoices in DealPOS: kept {kept.number} "
        f"(the oldest); delete {extra} by hand",
        {"kept": kept.number, "extra": [v.number for v in others]},
    )


def _replan_never_created(deps: PushDeps, row: OutboxRow, order: Order) -> Lookup:
    """The create in doubt never reached DealPOS: plan the order again from no invoice.

    The order's later rows were planned as if the create had happened (a cancel became a
    delete). `needed` when the create still stands as it is (make it now), `replanned` when the
    new plan replaced it (e.g. nothing at all for an order cancelled meanwhile).
    """
    store, shop_id = deps.store, deps.shop.shop_id
    rest = later_actions(store, shop_id, row)
    # A slow create may still land. A plan without a create is only safe once it can no
    # longer; one that creates again is safe at once where a late landing meets it as a 409,
    # but a renumbering tenant answers no 409: there a second create would be a duplicate.
    creates_again = heading(NOTHING, row.action, rest).existence == "active"
    if renumbers(store) or not creates_again:
        _wait_out_a_late_create(deps, row)
    if not rest:  # nothing behind the create: the plan from no invoice is the create itself
        store.mark_not_sent(row.id, "looked up: not created yet")
        return "needed"
    with store.transaction("re-plan a create that never landed"):
        plan = replan_after(store, shop_id, row, NOTHING, rest)
    log.info(
        "dealpos never got the create, re-planned",
        order_id=order.id,
        actions=[a.kind for a in plan],
    )
    return "replanned"


def _wait_out_a_late_create(deps: PushDeps, row: OutboxRow) -> None:
    """Raise TransientError (look again later) while the create may still be landing."""
    sent = deps.store.outbox_updated_at(row.id)
    settle = deps.create_settle_seconds
    # Stored in whole seconds: count from the end of that second, never from its start.
    age = deps.store.clock() - sent - 1 if sent is not None else settle
    if age < settle:
        raise TransientError(
            f"create of invoice {deps.shop.settings.number_for(row.order_id)} sent "
            f"{age:.0f} s ago is not in DealPOS yet; looking again before dropping it"
        )


def _adopt(deps: PushDeps, row: OutboxRow, order: Order, seen: LedgerRow, done: bool) -> None:
    """Take DealPOS's word for the invoice (`seen`: its Number, ID and state, as looked up);
    when the action already holds, re-plan the rest of the order from that state."""
    store, shop_id = deps.store, deps.shop.shop_id
    ledger = store.get_ledger(shop_id, order.id)
    invoice_id = seen.invoice_id or (ledger.invoice_id if ledger else None)
    lines = ledger.lines if ledger and ledger.lines else line_summary(order)
    with store.transaction("adopt the invoice DealPOS has"):
        store.put_ledger(shop_id, order.id, LedgerRow(seen.number, invoice_id, seen.state, lines))
        if not done:
            return
        replan_after(store, shop_id, row, seen.state, later_actions(store, shop_id, row))
        if row.last_error is not None:
            store.resolve_attention(shop_id, "rejected", order.id)
    log.info(
        "dealpos already had it",
        order_id=order.id,
        action=row.action.kind,
        state=seen.state.describe(),
    )
