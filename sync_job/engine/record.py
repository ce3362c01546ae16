"""Record fetched TikTok pages: snapshot + plan + outbox + attention, one transaction per page.

Each changed order is written to the snapshot and planned again (`plan.py`): its desired invoice
against the ledger, the resulting calls replacing its not-yet-sent outbox rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync_job.domain import jsonutil
from sync_job.domain.flow import is_active_return
from sync_job.domain.orders import BadOrder, Order, Return, order_id_of, parse_order, parse_return
from sync_job.engine.plan import PlannedChange, replan_to_desired
from sync_job.engine.recent import RecentOrders
from sync_job.engine.shop import ShopContext
from sync_job.state.store import Store

RAW_EXCERPT = 2000  # how much of a malformed payload an attention item keeps


@dataclass
class PageTally:
    """What recording a batch of pages did."""

    fetched: int = 0
    changed: int = 0
    stale: int = 0
    bad: int = 0
    returns: int = 0
    plans: list[PlannedChange] = field(default_factory=list)
    keep_plans: bool = True  # a long backfill only counts; a dry run lists every change

    def add(self, other: PageTally) -> None:
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


def _quarantine_payload(store: Store, shop: ShopContext, raw: Any, kind: str, why: str) -> None:
    oid = order_id_of(raw)
    key = f"{oid}:{content_hash(raw)}"
    excerpt = jsonutil.dumps(raw)[:RAW_EXCERPT] if raw is not None else "null"
    message = f"TikTok sent a malformed {kind} {oid or '(no id)'}: {why}"
    store.raise_attention(shop.shop_id, oid, f"bad_{kind}", key, message, {"raw": excerpt})


def record_orders(
    store: Store, shop: ShopContext, raws: Sequence[Any], recent: RecentOrders | None = None
) -> PageTally:
    """Record one page of orders and plan their actions, all in one transaction.

    `recent` receives every order written to the snapshot. It must live no longer than the run:
    a page whose transaction fails ends the run before anything reads it.
    """
    with store.transaction("record a page of orders"):
        tally, recorded = _record_page(store, shop, raws)
    _remember(recent, recorded)
    return tally


def _record_page(
    store: Store, shop: ShopContext, raws: Sequence[Any]
) -> tuple[PageTally, list[Order]]:
    """Record and plan a page of orders inside the caller's unit of work."""
    tally = PageTally(fetched=len(raws))
    ids = [oid for oid in (order_id_of(r) for r in raws) if oid]
    versions = store.get_order_versions(shop.shop_id, ids)
    recorded: list[Order] = []
    for raw in raws:
        _record_order(store, shop, raw, versions, tally, recorded)
    return tally, recorded


def _remember(recent: RecentOrders | None, recorded: list[Order]) -> None:
    if recent is not None:
        for order in recorded:
            recent.remember(order)


def _record_order(
    store: Store,
    shop: ShopContext,
    raw: Any,
    versions: dict[str, tuple[int, str]],
    tally: PageTally,
    recorded: list[Order],
) -> None:
    try:
        order = parse_order(raw)
    except BadOrder as exc:
        _quarantine_payload(store, shop, raw, "order", str(exc))
        tally.bad += 1
        return
    # Serialised once: the same text is hashed and stored (the store would serialise it again).
    canonical = jsonutil.dumps(raw, sort_keys=True)
    digest = _digest(canonical)
    previous = versions.get(order.id)
    if previous is not None and order.update_time < previous[0]:
        tally.stale += 1  # an older copy than the one recorded: status only moves forward
        _flag_stale(store, shop, order)
        return
    if previous == (order.update_time, digest) and shop.mode == "realtime":
        return  # seen exactly this copy before: the overlap re-read is free
    store.record_order(
        shop.shop_id, order.id, order.status, order.update_time, digest, raw, text=canonical
    )
    versions[order.id] = (order.update_time, digest)
    recorded.append(order)
    tally.changed += 1
    plan = replan_to_desired(store, shop, order)
    if plan is not None:
        tally.plans.append(plan)


def _flag_stale(store: Store, shop: ShopContext, order: Order) -> None:
    """An older copy whose status differs from the recorded one: tell a person, change nothing."""
    recorded = store.get_order_status(shop.shop_id, order.id)
    if recorded is None or recorded[0] == order.status:
        return
    status, update_time = recorded
    store.raise_attention(
        shop.shop_id,
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


FetchOrders = Callable[[list[str]], list[dict[str, Any]]]


def record_returns(
    store: Store,
    shop: ShopContext,
    raws: Sequence[Any],
    fetch_orders: FetchOrders,
    recent: RecentOrders | None = None,
) -> PageTally:
    """Record one page of returns, fetch orders never seen, and replan every affected order."""
    tally = PageTally(returns=len(raws))
    to_record = _returns_to_record(store, shop, raws, tally)
    missing = sorted(
        {r.order_id for r, _ in to_record if store.get_order_raw(shop.shop_id, r.order_id) is None}
    )
    # Fetched before the transaction: a page's writes never wait on the network.
    fetched = fetch_orders(missing) if missing else []
    with store.transaction("record a page of returns"):
        fetched_tally, recorded = _record_page(store, shop, fetched)
        tally.add(fetched_tally)
        for ret, raw in to_record:
            _record_return(store, shop, ret, raw)
        for order_id in sorted({r.order_id for r, _ in to_record}):
            _replan_by_id(store, shop, order_id, tally)
    _remember(recent, recorded)
    return tally


def _returns_to_record(
    store: Store, shop: ShopContext, raws: Sequence[Any], tally: PageTally
) -> list[tuple[Return, Any]]:
    """The page's returns no older than the recorded copy; a malformed one is quarantined."""
    to_record: list[tuple[Return, Any]] = []
    for raw in raws:
        try:
            ret = parse_return(raw)
        except BadOrder as exc:
            with store.transaction("quarantine a bad return"):
                _quarantine_payload(store, shop, raw, "return", str(exc))
            tally.bad += 1
            continue
        previous = store.get_return_update_time(shop.shop_id, ret.return_id)
        if previous is None or ret.update_time >= previous:
            to_record.append((ret, raw))
    return to_record


def _record_return(store: Store, shop: ShopContext, ret: Return, raw: Any) -> None:
    store.record_return(
        shop.shop_id, ret.return_id, ret.order_id, ret.return_status, ret.update_time, raw
    )
    if not is_active_return(ret.return_status):
        store.resolve_attention(shop.shop_id, "return", ret.return_id)
        return
    refund = f"{ret.refund_total} {ret.currency}".strip() if ret.refund_total is not None else "?"
    store.raise_attention(
        shop.shop_id,
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


def _replan_by_id(store: Store, shop: ShopContext, order_id: str, tally: PageTally) -> None:
    raw = store.get_order_raw(shop.shop_id, order_id)
    if raw is None:
        return  # TikTok did not return the order: nothing to invoice yet
    plan = replan_to_desired(store, shop, parse_order(raw))
    if plan is not None:
        tally.plans.append(plan)
