"""One try of one outbox action: look first when an earlier try may have applied, call, confirm.

Every confirmation is on disk when `attempt` returns: the ledger row and the outbox row's removal
are one transaction. A call whose answer was lost stays in flight, in doubt, and the next try
(or run) looks it up (`in_doubt.py`) before it repeats anything.
"""

from __future__ import annotations

import structlog

from sync_job.dealpos.wire import CreatedInvoice
from sync_job.domain.errors import Conflict, OutcomeUnknown, PermanentError, TransientError
from sync_job.domain.flow import NOTHING, Action, apply_action
from sync_job.domain.invoice import draft_invoice, line_summary, local_date, send_date
from sync_job.domain.orders import Order
from sync_job.engine.config_refusal import config_item_for
from sync_job.engine.in_doubt import resolve_in_doubt
from sync_job.engine.push_types import PushDeps, PushTally
from sync_job.engine.resolve import note_numbering
from sync_job.state.attention import resolve_attention_ids
from sync_job.state.ledger import LedgerRow
from sync_job.state.outbox import OutboxRow

log = structlog.get_logger(__name__)

_DONE_FIELD = {"create": "created", "send": "sent", "pay": "paid", "delete": "recycled"}


def attempt(deps: PushDeps, row: OutboxRow, order: Order, tally: PushTally) -> None:
    """One try of `row`: returns once DealPOS holds it (on disk); raises what refused it."""
    # Read at every try: an earlier try of this action may have sent it.
    if deps.store.outbox_in_doubt(row.id) and _settled(deps, row, order, tally):
        return
    with deps.store.transaction("mark in flight"):  # on disk before the call leaves
        deps.store.mark_in_flight(row.id)
    try:
        answer = _call(deps, row.action, order)
    except OutcomeUnknown:
        raise  # stays in flight, in doubt: the next try looks before it repeats
    except Conflict:
        if row.action.kind == "create" and _settled(deps, row, order, tally):
            return
        raise
    except TransientError as exc:
        deps.store.mark_not_sent(row.id, str(exc))  # refused before applying: no doubt
        raise
    except PermanentError:
        # "Already sent / paid / deleted" also arrives as a 400: look before quarantining.
        if row.action.kind != "create" and _settled(deps, row, order, tally):
            return
        raise
    _confirm(deps, row, order, answer, tally)


def _settled(deps: PushDeps, row: OutboxRow, order: Order, tally: PushTally) -> bool:
    """Look the invoice up; True when the action needs no call any more."""
    tally.lookups += 1
    lookup = resolve_in_doubt(deps, row, order)
    if lookup == "adopted":
        tally.adopted += 1
    return lookup != "needed"


def _call(deps: PushDeps, action: Action, order: Order) -> CreatedInvoice | None:
    s, dealpos = deps.shop.settings, deps.dealpos
    if action.kind == "create":
        return dealpos.create_invoice(draft_invoice(order, s, action.fulfillment, action.payment))
    # Every later call addresses the invoice as DealPOS named it (its Number, its ID).
    ledger = deps.store.get_ledger(deps.shop.shop_id, order.id)
    number = ledger.number if ledger else s.number_for(order.id)
    if action.kind == "send":
        dealpos.send_invoice(s.outlet, number, send_date(order, s.timezone))
    elif action.kind == "pay":
        date = local_date(order.update_time, s.timezone)
        note = f"TikTok Shop order {order.id}"
        dealpos.pay_in_full(s.outlet, number, date, s.payment_method, note)
    else:
        invoice_id = ledger.invoice_id if ledger else None
        dealpos.delete_invoice(s.outlet, number, invoice_id=invoice_id)
    return None


def _confirm(
    deps: PushDeps, row: OutboxRow, order: Order, answer: CreatedInvoice | None, tally: PushTally
) -> None:
    """DealPOS confirmed the call: ledger updated and outbox row gone, on disk, together."""
    store, shop_id = deps.store, deps.shop.shop_id
    new = _confirmed_ledger(deps, row, order, answer)
    # A failed write here leaves the row in flight, in doubt: it costs one lookup.
    with store.transaction("confirm action"):
        store.put_ledger(shop_id, order.id, new)
        store.finish_action(row.id)
        if row.last_error is not None:  # refused before (retried, or re-planned): settled
            store.resolve_attention(shop_id, "rejected", order.id)
    if row.last_error is not None:
        _resolve_config_item(deps, order.id)
    name = _DONE_FIELD[row.action.kind]
    setattr(tally, name, getattr(tally, name) + 1)
    log.info(
        "dealpos updated", order_id=order.id, action=row.action.kind, state=new.state.describe()
    )


def _resolve_config_item(deps: PushDeps, order_id: str) -> None:
    """A call the config had refused went through: the config was fixed, so its item too
    (a unit of its own, after the confirmation)."""
    item = config_item_for(deps.store, deps.shop.shop_id, order_id)
    if item is not None:
        resolve_attention_ids(deps.store, [item])


def _confirmed_ledger(
    deps: PushDeps, row: OutboxRow, order: Order, answer: CreatedInvoice | None
) -> LedgerRow:
    """The ledger row after the confirmed call: DealPOS's Number and ID when it answered them."""
    ledger = deps.store.get_ledger(deps.shop.shop_id, order.id)
    state = apply_action(ledger.state if ledger else NOTHING, row.action)
    sent = deps.shop.settings.number_for(order.id)
    if answer is not None:
        note_numbering(deps.store, sent, answer.number)
        return LedgerRow(answer.number, answer.id, state, line_summary(order))
    if ledger is None:
        return LedgerRow(sent, None, state, line_summary(order))
    return LedgerRow(ledger.number, ledger.invoice_id, state, ledger.lines)
