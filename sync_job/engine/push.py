"""Drain the outbox into DealPOS: per order in order, retried, verified when in doubt,
quarantined when refused.

The pusher never reads TikTok. It reads the recorded order snapshot to build bodies, calls DealPOS,
and records each confirmed call in the ledger in the same transaction that removes the outbox row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from tenacity import RetryCallState

from sync_job.dealpos.wire import CreatedInvoice, InvoiceView
from sync_job.domain.errors import (
    ConfigRefused,
    Conflict,
    OutcomeUnknown,
    PermanentError,
    TransientError,
)
from sync_job.domain.flow import (
    NOTHING,
    RECYCLED,
    Action,
    InvoiceState,
    apply_action,
    plan_actions,
    project,
)
from sync_job.domain.invoice import (
    InvoiceProblem,
    draft_invoice,
    line_summary,
    local_date,
    send_date,
)
from sync_job.domain.orders import BadOrder, Order, parse_order
from sync_job.domain.outbox import ACTIONABLE, DONE, LEFT, PENDING, QUARANTINED, STOP, PushOutcome
from sync_job.domain.rejections import bundle_hint
from sync_job.engine.config_refusal import config_refusal, open_config_items, stop_for_config
from sync_job.engine.ports import DealposApi
from sync_job.engine.recent import RecentOrders
from sync_job.engine.record import ShopContext
from sync_job.engine.resolve import find_order_invoice, note_numbering
from sync_job.net.retrying import transient_retrying
from sync_job.state.attention import resolve_attention_ids
from sync_job.state.store import LedgerRow, OutboxRow, Store
from sync_job.state.tenant import renumbers

log = structlog.get_logger(__name__)

BATCH = 200
GIVE_UP_AFTER = 3  # consecutive actions left pending: DealPOS is down, stop pushing this run


@dataclass
class PushTally:
    """What a push did."""

    created: int = 0
    sent: int = 0
    paid: int = 0
    recycled: int = 0
    adopted: int = 0
    lookups: int = 0
    quarantined: int = 0
    left_pending: int = 0
    retries: int = 0
    stopped_early: bool = False
    config_refused: ConfigRefused | None = None  # the config named a record DealPOS lacks


_DONE_FIELD = {"create": "created", "send": "sent", "pay": "paid", "delete": "recycled"}


def _achieved(action: Action, state: InvoiceState) -> bool:
    if action.kind == "create":
        return state.record != "none"
    if action.kind == "send":
        return state.fulfillment == "Sent" or state.record == "recycled"
    if action.kind == "pay":
        return state.payment == "Paid"
    return state.record == "recycled"


class Pusher:
    """Drains one shop's outbox into DealPOS."""

    def __init__(  # noqa: PLR0913  # being split into drain/resolve/plan (issue 10 item 3)
        self,
        store: Store,
        client: DealposApi,
        ctx: ShopContext,
        *,
        create_settle_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        max_backoff: float = 60.0,
        should_stop: Callable[[], bool] = lambda: False,
        heartbeat: Callable[[], None] = lambda: None,
        recent: RecentOrders | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.ctx = ctx
        self.should_stop = should_stop
        self.heartbeat = heartbeat
        # A create DealPOS still does not show this long after it was sent will not land any more
        # (it answers or times out well within it); before that, "absent" may mean "not yet".
        self.create_settle_seconds = create_settle_seconds
        self.recent = recent if recent is not None else RecentOrders(limit=0)
        self.tally = PushTally()
        self._retrying = transient_retrying(
            max_attempts=max_attempts,
            max_backoff=max_backoff,
            sleep=sleep,
            before_sleep=self._count_retry,
        )
        self.replanned: set[str] = set()  # orders whose outbox rows an adoption replaced
        self._config_items = open_config_items(store, ctx.shop_id)  # order id -> attention id

    def drain(self) -> PushTally:
        """Push every actionable outbox row once (retrying transient failures), oldest first.

        Every confirmation is on disk when its action returns; an interruption leaves at most
        the action in flight, in doubt, which the next run looks up before repeating it.
        """
        self._drain()
        return self.tally

    def _drain(self) -> None:
        after, blocked, giving_up = 0, set[str](), 0
        while rows := self.store.next_pending_orders(self.ctx.shop_id, after, BATCH):
            for row in rows:
                after = row.id
                if row.order_id in blocked:
                    continue  # per-order order: nothing after a failed action of the same order
                if row.order_id in self.replanned:  # an adoption re-planned it: re-read
                    current = self.store.get_outbox_row(row.id)
                    if current is None or current.state not in ACTIONABLE:
                        continue  # a stale copy of a row the re-plan replaced
                    row = current
                if self.should_stop():
                    self.tally.stopped_early = True
                    return
                self.heartbeat()
                outcome = self.push_row(row)
                if outcome == STOP:
                    self.tally.stopped_early = True
                    log.error("push stopped: the config names a record DealPOS does not have")
                    return
                if outcome != DONE:
                    blocked.add(row.order_id)
                giving_up = giving_up + 1 if outcome == LEFT else 0
                if giving_up >= GIVE_UP_AFTER:
                    self.tally.stopped_early = True
                    log.warning("dealpos unavailable, leaving the rest for the next run")
                    return

    def push_row(self, row: OutboxRow) -> PushOutcome:
        """Push one action: done, quarantined or left (pending for the next run)."""
        try:
            order = self._recorded_order(row.order_id)
        except BadOrder as exc:  # the snapshot was recorded valid; only a damaged DB gets here
            self._quarantine(row, exc)
            return QUARANTINED
        try:
            self._retrying(self._attempt, row, order)
        except (PermanentError, InvoiceProblem) as exc:
            refused = config_refusal(self.ctx, row.action.kind, row.order_id, exc)
            if refused is not None:  # the config's fault: every order would be refused alike
                stop_for_config(self.store, self.ctx, row, refused)
                self.tally.config_refused = refused
                return STOP
            self._quarantine(row, exc, order)
            return QUARANTINED
        except TransientError as exc:
            self.tally.left_pending += 1
            self.store.release_to_pending(row.id, str(exc))
            log.warning(
                "action left pending", order_id=row.order_id, action=row.action.kind, error=str(exc)
            )
            return LEFT
        return DONE

    def _recorded_order(self, order_id: str) -> Order:
        """The order as recorded: parsed by this run's recording, or read back from the snapshot."""
        order = self.recent.get(order_id)
        if order is None:
            order = parse_order(self.store.get_order_raw(self.ctx.shop_id, order_id))
        return order

    def _count_retry(self, retry_state: RetryCallState) -> None:
        self.tally.retries += 1

    def _attempt(self, row: OutboxRow, order: Order) -> None:
        """One try: look first if an earlier try may have applied, then call, then confirm."""
        # Read at every try: an earlier try of this action may have sent it.
        if self.store.outbox_in_doubt(row.id) and self._verify(row, order):
            return
        with self.store.transaction("mark in flight"):  # on disk before the call leaves
            self.store.mark_in_flight(row.id)
        try:
            answer = self._call(row.action, order)
        except OutcomeUnknown:
            raise  # stays in flight, in doubt: the next try looks before it repeats
        except Conflict:
            if row.action.kind == "create" and self._verify(row, order):
                return
            raise
        except TransientError as exc:
            self.store.mark_not_sent(row.id, str(exc))  # refused before applying: no doubt
            raise
        except PermanentError:
            # "Already sent / paid / deleted" also arrives as a 400: look before quarantining.
            if row.action.kind != "create" and self._verify(row, order):
                return
            raise
        self._confirm(row, order, answer)

    def _call(self, action: Action, order: Order) -> CreatedInvoice | None:
        s = self.ctx.settings
        if action.kind == "create":
            draft = draft_invoice(order, s, action.fulfillment, action.payment)
            return self.client.create_invoice(draft)
        # Every later call addresses the invoice as DealPOS named it (its Number, its ID).
        ledger = self.store.get_ledger(self.ctx.shop_id, order.id)
        number = ledger.number if ledger else s.number_for(order.id)
        if action.kind == "send":
            self.client.send_invoice(s.outlet, number, send_date(order, s.timezone))
        elif action.kind == "pay":
            date = local_date(order.update_time, s.timezone)
            note = f"TikTok Shop order {order.id}"
            self.client.pay_in_full(s.outlet, number, date, s.payment_method, note)
        else:
            invoice_id = ledger.invoice_id if ledger else None
            self.client.delete_invoice(s.outlet, number, invoice_id=invoice_id)
        return None

    def _confirm(self, row: OutboxRow, order: Order, answer: CreatedInvoice | None) -> None:
        """DealPOS confirmed the call: ledger updated and outbox row gone, on disk, together."""
        ledger = self.store.get_ledger(self.ctx.shop_id, order.id)
        state = apply_action(ledger.state if ledger else NOTHING, row.action)
        created = row.action.kind == "create"
        sent = self.ctx.settings.number_for(order.id)
        if answer is not None:
            note_numbering(self.store, sent, answer.number)
        new = LedgerRow(
            answer.number if answer is not None else (ledger.number if ledger else sent),
            answer.id if answer is not None else (ledger.invoice_id if ledger else None),
            state,
            line_summary(order) if created or ledger is None else ledger.lines,
        )
        # A failed write here leaves the row in flight, in doubt: it costs one lookup.
        with self.store.transaction("confirm action"):
            self.store.put_ledger(self.ctx.shop_id, order.id, new)
            self.store.finish_action(row.id)
            if row.last_error is not None:  # refused before (retried, or re-planned): settled
                self.store.resolve_attention(self.ctx.shop_id, "rejected", order.id)
        if row.last_error is not None and order.id in self._config_items:
            # the config was fixed: its item too (a unit of its own, after the confirmation)
            resolve_attention_ids(self.store, [self._config_items.pop(order.id)])
        name = _DONE_FIELD[row.action.kind]
        setattr(self.tally, name, getattr(self.tally, name) + 1)
        log.info(
            "dealpos updated", order_id=order.id, action=row.action.kind, state=state.describe()
        )

    def _verify(self, row: OutboxRow, order: Order) -> bool:
        """Look the invoice up; True (ledger updated, row done) when the action already holds."""
        kind = row.action.kind
        ledger = self.store.get_ledger(self.ctx.shop_id, order.id)
        number = ledger.number if ledger else self.ctx.settings.number_for(order.id)
        self.tally.lookups += 1
        # A create in doubt looks for the invoice it made, never an earlier (recycled) one.
        found = find_order_invoice(
            self.client, self.store, self.ctx, order, None if kind == "create" else ledger
        )
        view = found.invoice
        if view is None:
            if kind == "delete":  # erased, not recycled (some tenants): the delete holds
                self._adopt(row, order, number, None, RECYCLED, done=True)
                return True
            if kind != "create":
                raise PermanentError(f"invoice {number} is not in DealPOS any more")
            return self._replan_never_created(row, order)
        reference = view.reference or order.id
        if reference != order.id:
            raise PermanentError(f"invoice number {number} already belongs to order {reference}")
        if found.others:
            self._two_invoices(order, view, found.others)
        state = view.state()
        done = _achieved(row.action, state)
        self._adopt(row, order, view.number or number, view.id or None, state, done=done)
        return done

    def _two_invoices(self, order: Order, kept: InvoiceView, others: list[InvoiceView]) -> None:
        """More than one invoice for the order: the oldest is kept; a person removes the rest."""
        extra = ", ".join(v.number for v in others)
        self.store.raise_attention(
            self.ctx.shop_id,
            order.id,
            "duplicate_invoice",
            order.id,
            f"order {order.id} has {len(others) + 1} invoices in DealPOS: kept {kept.number} "
            f"(the oldest); delete {extra} by hand",
            {"kept": kept.number, "extra": [v.number for v in others]},
        )

    def _replan_never_created(self, row: OutboxRow, order: Order) -> bool:
        """The create in doubt never reached DealPOS: plan the order again from no invoice.

        The order's later rows were planned as if the create had happened (a cancel became a
        delete). Returns False when the create still stands as it is (make it now), True when the
        new plan replaced it (e.g. nothing at all for an order cancelled meanwhile).
        """
        rest = self._later_actions(row)
        plan = plan_actions(NOTHING, project(apply_action(NOTHING, row.action), rest))
        # A slow create may still land. A plan without a create is only safe once it can no
        # longer; one that creates again is safe at once where a late landing meets it as a 409,
        # but a renumbering tenant answers no 409: there a second create would be a duplicate.
        if renumbers(self.store) or not any(a.kind == "create" for a in plan):
            self._wait_out_a_late_create(row)
        if plan == [row.action] and not rest:
            self.store.mark_not_sent(row.id, "looked up: not created yet")
            return False
        with self.store.transaction("re-plan a create that never landed"):
            self._replace_plan(row, plan)
        log.info(
            "dealpos never got the create, re-planned",
            order_id=order.id,
            actions=[a.kind for a in plan],
        )
        return True

    def _wait_out_a_late_create(self, row: OutboxRow) -> None:
        """Raise TransientError (look again later) while the create may still be landing."""
        sent = self.store.outbox_updated_at(row.id)
        # Stored in whole seconds: count from the end of that second, never from its start.
        age = self.store.clock() - sent - 1 if sent is not None else self.create_settle_seconds
        if age < self.create_settle_seconds:
            raise TransientError(
                f"create of invoice {self.ctx.settings.number_for(row.order_id)} sent "
                f"{age:.0f} s ago is not in DealPOS yet; looking again before dropping it"
            )

    def _adopt(  # the invoice's identity and state, as looked up
        self,
        row: OutboxRow,
        order: Order,
        number: str,
        invoice_id: str | None,
        found: InvoiceState,
        *,
        done: bool,
    ) -> None:
        """Take DealPOS's word for the invoice; when the action already holds, re-plan the rest."""
        ledger = self.store.get_ledger(self.ctx.shop_id, order.id)
        invoice_id = invoice_id or (ledger.invoice_id if ledger else None)
        lines = ledger.lines if ledger and ledger.lines else line_summary(order)
        with self.store.transaction("adopt the invoice DealPOS has"):
            self.store.put_ledger(
                self.ctx.shop_id, order.id, LedgerRow(number, invoice_id, found, lines)
            )
            if not done:
                return
            intended = project(apply_action(found, row.action), self._later_actions(row))
            self._replace_plan(row, plan_actions(found, intended))
            if row.last_error is not None:
                self.store.resolve_attention(self.ctx.shop_id, "rejected", order.id)
        self.tally.adopted += 1
        log.info(
            "dealpos already had it",
            order_id=order.id,
            action=row.action.kind,
            state=found.describe(),
        )

    def _later_actions(self, row: OutboxRow) -> list[Action]:
        """The order's pending actions behind `row`, planned as if `row` had been done."""
        rows = self.store.get_outbox_for_order(self.ctx.shop_id, row.order_id)
        return [r.action for r in rows if r.id != row.id and r.state == PENDING]

    def _replace_plan(self, row: OutboxRow, plan: list[Action]) -> None:
        """`row` is settled: drop it, and swap its order's pending rows for `plan`."""
        self.store.finish_action(row.id)
        self.replanned.add(row.order_id)
        self.store.replace_outbox(self.ctx.shop_id, row.order_id, plan, PENDING)

    def _quarantine(self, row: OutboxRow, exc: Exception, order: Order | None = None) -> None:
        message = f"order {row.order_id}: DealPOS refused {row.action.kind}: {exc}"
        hint = bundle_hint(order, str(exc), self.ctx.settings.sku_map) if order else None
        if hint:  # a virtual bundle's code: say what DealPOS needs, not just "unknown variant"
            message += f" ({hint})"
        with self.store.transaction("quarantine an action"):
            self.store.quarantine(row, str(exc))
            self.store.raise_attention(
                self.ctx.shop_id, row.order_id, "rejected", row.order_id, message
            )
        self.tally.quarantined += 1
        log.warning(
            "action quarantined", order_id=row.order_id, action=row.action.kind, error=str(exc)
        )
