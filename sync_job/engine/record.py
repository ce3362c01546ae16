"""Record fetched TikTok pages: snapshot + plan + outbox + attention, one transaction per page.

This is where the pure flow meets the store: each changed order gets its desired invoice state
compared with the ledger, and the resulting actions replace its not-yet-sent outbox rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync_job.domain import jsonutil
from sync_job.domain.flow import (
    NOTHING,
    Action,
    InvoiceState,
    Mode,
    desired_state,
    is_active_return,
    plan_actions,
    project,
)
from sync_job.domain.invoice import InvoiceSettings, line_summary
from sync_job.domain.orders import BadOrder, Order, Return, order_id_of, parse_order, parse_return
from sync_job.domain.outbox import IN_FLIGHT, PENDING, QUARANTINED, OutboxState
from sync_job.engine.recent import RecentOrders
from sync_job.state.store import LedgerRow, Store

RAW_EXCERPT = 2000  # how much of a malformed payload an attention item keeps


@dataclass(frozen=True)
class ShopContext:
    """Everything about one shop that recording and pushing need."""

    shop_id: str
    cipher: str
    settings: InvoiceSettings
    mode: Mode
    settle_always: bool = False


@dataclass(frozen=True)
class PlannedChange:
    """One order whose desired invoice changed: from → to, and the calls that close the gap."""

    order_id: str
    known: InvoiceState
    desired: InvoiceState
    actions: tuple[Action, ...]


@dataclass
class RecordTally:
    """What recording a batch of pages did."""

    fetched: int = 0
    changed: int = 0
    stale: int = 0
    bad: int = 0
    returns: int = 0
    plans: list[PlannedChange] = field(default_factory=list)
    keep_plans: bool = True  # a long backfill only counts; a dry run lists every change

    def add(self, other: RecordTally) -> None:
        """Fold another tally into this one."""
        self.fetched += other.fetched
        self.changed += other.changed
        self.stale += other.stale
        self.bad += other.bad
        self.returns += other.returns
        if self.keep_plans:
            self.plans.extend(other.plans)


def content_hash(raw: Any) -> str:
    """A stable hash of a payload's content (key order does not matter)."""
    return _digest(jsonutil.dumps(raw, sort_keys=True))


def _digest(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _quarantine_payload(store: Store, ctx: ShopContext, raw: Any, kind: str, why: str) -> None:
    oid = order_id_of(raw)
    key = f"{oid}:{content_hash(raw)}"
    excerpt = jsonutil.dumps(raw)[:RAW_EXCERPT] if raw is not None else "null"
    message = f"TikTok sent a malformed {kind} {oid or '(no id)'}: {why}"
    store.raise_attention(ctx.shop_id, oid, f"bad_{kind}", key, message, {"raw": excerpt})


def record_orders(
    store: Store, ctx: ShopContext, raws: Sequence[Any], recent: RecentOrders | None = None
) -> RecordTally:
    """Record one page of orders and plan their actions, all in one transaction.

    `recent` receives every order written to the snapshot. It must live no longer than the run:
    a page whose transaction fails ends the run before anything reads it.
    """
    with store.transaction("record a page of orders"):
        tally, recorded = _record_page(store, ctx, raws)
    _remember(recent, recorded)
    return tally


def _record_page(
    store: Store, ctx: ShopContext, raws: Sequence[Any]
) -> tuple[RecordTally, list[Order]]:
    """Record and plan a page of orders inside the caller's unit of work."""
    tally = RecordTally(fetched=len(raws))
    ids = [oid for oid in (order_id_of(r) for r in raws) if oid]
    versions = store.get_order_versions(ctx.shop_id, ids)
    recorded: list[Order] = []
    for raw in raws:
        _record_order(store, ctx, raw, versions, tally, recorded)
    return tally, recorded


def _remember(recent: RecentOrders | None, recorded: list[Order]) -> None:
    if recent is not None:
        for order in recorded:
            recent.remember(order)


def _record_order(
    store: Store,
    ctx: ShopContext,
    raw: Any,
    versions: dict[str, tuple[int, str]],
    tally: RecordTally,
    recorded: list[Order],
) -> None:
    try:
        order = parse_order(raw)
    except BadOrder as exc:
        _quarantine_payload(store, ctx, raw, "order", str(exc))
        tally.bad += 1
        return
    # Serialised once: the same text is hashed and stored (the store would serialise it again).
    canonical = jsonutil.dumps(raw, sort_keys=True)
    digest = _digest(canonical)
    previous = versions.get(order.id)
    if previous is not None and order.update_time < previous[0]:
        tally.stale += 1  # an older copy than the one recorded: status only moves forward
        _flag_stale(store, ctx, order)
        return
    if previous == (order.update_time, digest) and ctx.mode == "realtime":
        return  # seen exactly this copy before: the overlap re-read is free
    store.record_order(
        ctx.shop_id, order.id, order.status, order.update_time, digest, raw, text=canonical
    )
    versions[order.id] = (order.update_time, digest)
    recorded.append(order)
    tally.changed += 1
    plan = replan_order(store, ctx, order)
    if plan is not None:
        tally.plans.append(plan)


def _flag_stale(store: Store, ctx: ShopContext, order: Order) -> None:
    """An older copy whose status differs from the recorded one: tell a person, change nothing."""
    recorded = store.get_order_status(ctx.shop_id, order.id)
    if recorded is None or recorded[0] == order.status:
        return
    status, update_time = recorded
    store.raise_attention(
        ctx.shop_id,
        order.id,
        "stale",
        f"{order.id}:{order.update_time}:{order.status}",
        f"order {order.id}: TikTok sent an older copy with status {order.status} "
        f"(updated {_utc(order.update_time)}) after {status} (updated {_utc(update_time)}) "
        "was recorded; DealPOS follows the newer one: check the order in TikTok Seller Center",
        {"stale_status": order.status, "stale_update_time": order.update_time,
         "recorded_status": status, "recorded_update_time": update_time},
    )  # fmt: skip


def _utc(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def desired_for(store: Store, ctx: ShopContext, order: Order) -> InvoiceState | None:
    """The invoice a recorded order should have now, given its recorded returns (None: unknown)."""
    statuses = store.get_return_statuses(ctx.shop_id, order.id)
    return desired_state(
        order.status,
        has_active_return=any(is_active_return(s) for s in statuses),
        mode=ctx.mode,
        settle_always=ctx.settle_always,
    )


def replan_order(store: Store, ctx: ShopContext, order: Order) -> PlannedChange | None:
    """Recompute an order's desired invoice and replace its unsent outbox rows with the new plan."""
    desired = desired_for(store, ctx, order)
    if desired is None:
        store.raise_attention(
            ctx.shop_id,
            order.id,
            "unknown_status",
            f"{order.id}:{order.status}",
            f"order {order.id} has unknown status {order.status!r}: nothing was changed in DealPOS",
        )
        # Nothing in DealPOS while the status is unknown: not even calls an older copy planned.
        store.replace_outbox(ctx.shop_id, order.id, [], PENDING)
        return None
    ledger = store.get_ledger(ctx.shop_id, order.id)
    rows = store.get_outbox_for_order(ctx.shop_id, order.id)
    # Calls already sent (in flight) count as done: the pusher verifies them before anything else.
    known = project(
        ledger.state if ledger else NOTHING, [r.action for r in rows if r.state == IN_FLIGHT]
    )
    actions = plan_actions(known, desired)
    quarantined = [r for r in rows if r.state == QUARANTINED]
    state: OutboxState = QUARANTINED if quarantined and actions else PENDING
    error = quarantined[0].last_error if quarantined else None
    store.replace_outbox(ctx.shop_id, order.id, actions, state, error)
    if quarantined and not actions:
        store.resolve_attention(ctx.shop_id, "rejected", order.id)
    _check_manual_edits(store, ctx, order, known, desired, ledger)
    return PlannedChange(order.id, known, desired, tuple(actions))


def _check_manual_edits(
    store: Store,
    ctx: ShopContext,
    order: Order,
    known: InvoiceState,
    desired: InvoiceState,
    ledger: LedgerRow | None,
) -> None:
    """Raise attention items the API cannot fix: late line cancels, paid then cancelled."""
    invoiced_lines = ledger.lines if ledger else None
    if known.record != "active":
        return
    if desired.record == "recycled" and known.payment == "Paid":
        store.raise_attention(
            ctx.shop_id,
            order.id,
            "cancelled_after_paid",
            order.id,
            f"order {order.id} was cancelled after its invoice was marked Paid: "
            "the invoice goes to the recycle bin; check the payment by hand",
        )
    now_lines = line_summary(order)
    if desired.record == "active" and invoiced_lines is not None and now_lines != invoiced_lines:
        gone = {sku: n - now_lines.get(sku, 0) for sku, n in invoiced_lines.items()}
        text = ", ".join(f"{sku} x{n}" for sku, n in gone.items() if n > 0)
        if text:
            store.raise_attention(
                ctx.shop_id,
                order.id,
                "partial_cancel",
                order.id,
                f"order {order.id}: lines cancelled after the invoice was made; "
                f"remove {text} from invoice "
                f"{ledger.number if ledger else ctx.settings.number_for(order.id)} "
                "by hand",
            )


FetchOrders = Callable[[list[str]], list[dict[str, Any]]]


def record_returns(
    store: Store,
    ctx: ShopContext,
    raws: Sequence[Any],
    fetch_orders: FetchOrders,
    recent: RecentOrders | None = None,
) -> RecordTally:
    """Record one page of returns, fetch orders never seen, and replan every affected order."""
    tally = RecordTally(returns=len(raws))
    fresh: list[tuple[Return, Any]] = []
    for raw in raws:
        try:
            ret = parse_return(raw)
        except BadOrder as exc:
            with store.transaction("quarantine a bad return"):
                _quarantine_payload(store, ctx, raw, "return", str(exc))
            tally.bad += 1
            continue
        previous = store.get_return_update_time(ctx.shop_id, ret.return_id)
        if previous is None or ret.update_time >= previous:
            fresh.append((ret, raw))
    missing = sorted(
        {r.order_id for r, _ in fresh if store.get_order_raw(ctx.shop_id, r.order_id) is None}
    )
    # Fetched before the transaction: a page's writes never wait on the network.
    fetched = fetch_orders(missing) if missing else []
    with store.transaction("record a page of returns"):
        fetched_tally, recorded = _record_page(store, ctx, fetched)
        tally.add(fetched_tally)
        for ret, raw in fresh:
            _record_return(store, ctx, ret, raw)
        for order_id in sorted({r.order_id for r, _ in fresh}):
            _replan_by_id(store, ctx, order_id, tally)
    _remember(recent, recorded)
    return tally


def _record_return(store: Store, ctx: ShopContext, ret: Return, raw: Any) -> None:
    store.record_return(
        ctx.shop_id, ret.return_id, ret.order_id, ret.return_status, ret.update_time, raw
    )
    if not is_active_return(ret.return_status):
        store.resolve_attention(ctx.shop_id, "return", ret.return_id)
        return
    refund = f"{ret.refund_total} {ret.currency}".strip() if ret.refund_total is not None else "?"
    store.raise_attention(
        ctx.shop_id,
        ret.order_id,
        "return",
        ret.return_id,
        f"return/refund {ret.return_id} on order {ret.order_id}: edit the invoice in DealPOS "
        f"({ret.return_type or 'return'}, {ret.return_status}, refund {refund}, "
        f"lines: {', '.join(s for s in ret.skus if s) or '?'}; reason: {ret.reason or '-'})",
        {
            "type": ret.return_type,
            "status": ret.return_status,
            "reason": ret.reason,
            "refund_total": ret.refund_total,
            "skus": list(ret.skus),
        },
    )


def _replan_by_id(store: Store, ctx: ShopContext, order_id: str, tally: RecordTally) -> None:
    raw = store.get_order_raw(ctx.shop_id, order_id)
    if raw is None:
        return  # TikTok did not return the order: nothing to invoice yet
    plan = replan_order(store, ctx, parse_order(raw))
    if plan is not None:
        tally.plans.append(plan)
