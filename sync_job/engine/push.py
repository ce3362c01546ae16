"""Drain the outbox into DealPOS: per order in order, retried, looked up when in doubt,
quarantined when refused.

The push never reads TikTok. It reads the recorded order snapshot to build bodies, calls DealPOS
(`attempt.py`: one try of one action), and records each confirmed call in the ledger in the same
transaction that removes the outbox row. Nothing is kept between drains: what a drain did is the
`PushTally` it returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import structlog
from tenacity import RetryCallState, Retrying

from sync_job.domain.errors import PermanentError, TransientError
from sync_job.domain.invoice import InvoiceProblem
from sync_job.domain.orders import BadOrder, Order, parse_order
from sync_job.domain.outbox import ACTIONABLE, DONE, LEFT, QUARANTINED, STOP, PushOutcome
from sync_job.domain.rejections import bundle_hint
from sync_job.engine.attempt import attempt
from sync_job.engine.config_refusal import config_refusal, stop_for_config
from sync_job.engine.push_types import PushDeps, PushTally
from sync_job.engine.recent import RecentOrders
from sync_job.net.retrying import RetryConfig, transient_retrying
from sync_job.state.outbox import OutboxRow
from sync_job.state.store import Store

log = structlog.get_logger(__name__)

BATCH = 200
GIVE_UP_AFTER = 3  # consecutive actions left pending: DealPOS is down, stop pushing this run


@dataclass(frozen=True)
class DrainControl:
    """How a drain runs: its retry policy, when it stops early, what it does between calls."""

    retry: RetryConfig = field(default_factory=RetryConfig)
    sleep: Callable[[float], None] = time.sleep
    should_stop: Callable[[], bool] = lambda: False
    heartbeat: Callable[[], None] = lambda: None  # before each action (lease, progress)
    recent: RecentOrders | None = None  # orders this run recorded, parsed already


@dataclass(frozen=True)
class _Run:
    """One drain's working set: the policy it retries with and the tally it fills."""

    deps: PushDeps
    retrying: Retrying
    tally: PushTally
    recent: RecentOrders | None


def drain(deps: PushDeps, control: DrainControl | None = None) -> PushTally:
    """Push every actionable outbox row once (retrying transient failures), oldest first.

    Every confirmation is on disk when its action returns; an interruption leaves at most
    the action in flight, in doubt, which the next run looks up before repeating it.
    """
    control = control or DrainControl()
    tally = PushTally()

    def count_retry(_: RetryCallState) -> None:
        tally.retries += 1

    retrying = transient_retrying(
        max_attempts=control.retry.max_attempts,
        max_backoff=control.retry.max_backoff_seconds,
        sleep=control.sleep,
        before_sleep=count_retry,
    )
    _drain(_Run(deps, retrying, tally, control.recent), control)
    return tally


def _drain(run: _Run, control: DrainControl) -> None:
    store, tally = run.deps.store, run.tally
    blocked: set[str] = set()  # an action failed: nothing after it in the same order
    pushed: set[str] = set()  # an action done: a lookup may have re-planned the order's rows
    giving_up = 0
    for listed in _actionable(store, run.deps.shop.shop_id):
        if listed.order_id in blocked:
            continue  # per-order order: nothing after a failed action of the same order
        row = _current(store, listed) if listed.order_id in pushed else listed
        if row is None:
            continue  # a stale copy of a row a re-plan replaced
        if control.should_stop():
            tally.stopped_early = True
            return
        control.heartbeat()
        outcome = _push_row(run, row)
        (pushed if outcome == DONE else blocked).add(row.order_id)
        giving_up = giving_up + 1 if outcome == LEFT else 0
        if outcome == STOP or giving_up >= GIVE_UP_AFTER:
            _stop_early(tally, outcome)
            return


def _actionable(store: Store, shop_id: str) -> Iterator[OutboxRow]:
    """The shop's actionable rows in outbox order, a batch at a time."""
    after = 0
    while rows := store.next_pending_orders(shop_id, after, BATCH):
        yield from rows
        after = rows[-1].id


def _current(store: Store, listed: OutboxRow) -> OutboxRow | None:
    """The row as it is now; None when it is gone or no longer actionable."""
    current = store.get_outbox_row(listed.id)
    return current if current is not None and current.state in ACTIONABLE else None


def _stop_early(tally: PushTally, outcome: PushOutcome) -> None:
    tally.stopped_early = True
    if outcome == STOP:
        log.error("push stopped: the config names a record DealPOS does not have")
    else:
        log.warning("dealpos unavailable, leaving the rest for the next run")


def _push_row(run: _Run, row: OutboxRow) -> PushOutcome:
    """Push one action: done, quarantined, left (pending for the next run) or stop (config)."""
    deps, tally = run.deps, run.tally
    try:
        order = _recorded_order(run, row.order_id)
    except BadOrder as exc:  # the snapshot was recorded valid; only a damaged DB gets here
        _quarantine(run, row, exc)
        return QUARANTINED
    try:
        run.retrying(attempt, deps, row, order, tally)
    except (PermanentError, InvoiceProblem) as exc:
        refused = config_refusal(deps.shop, row.action.kind, row.order_id, exc)
        if refused is not None:  # the config's fault: every order would be refused alike
            stop_for_config(deps.store, deps.shop, row, refused)
            tally.config_refused = refused
            return STOP
        _quarantine(run, row, exc, order)
        return QUARANTINED
    except TransientError as exc:
        tally.left_pending += 1
        deps.store.release_to_pending(row.id, str(exc))
        log.warning(
            "action left pending", order_id=row.order_id, action=row.action.kind, error=str(exc)
        )
        return LEFT
    return DONE


def _recorded_order(run: _Run, order_id: str) -> Order:
    """The order as recorded: parsed by this run's recording, or read back from the snapshot."""
    order = run.recent.get(order_id) if run.recent is not None else None
    if order is None:
        order = parse_order(run.deps.store.get_order_raw(run.deps.shop.shop_id, order_id))
    return order


def _quarantine(run: _Run, row: OutboxRow, exc: Exception, order: Order | None = None) -> None:
    deps = run.deps
    message = f"order {row.order_id}: DealPOS refused {row.action.kind}: {exc}"
    hint = bundle_hint(order, str(exc), deps.shop.settings.sku_map) if order else None
    if hint:  # a virtual bundle's code: say what DealPOS needs, not just "unknown variant"
        message += f" ({hint})"
    with deps.store.transaction("quarantine an action"):
        deps.store.quarantine(row, str(exc))
        deps.store.raise_attention(
            deps.shop.shop_id, row.order_id, "rejected", row.order_id, message
        )
    run.tally.quarantined += 1
    log.warning("action quarantined", order_id=row.order_id, action=row.action.kind, error=str(exc))
