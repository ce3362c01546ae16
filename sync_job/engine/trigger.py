"""The webhook trigger: work off stored notifications by fetching the named orders and pushing.

A notification only says "look at order X". The order is fetched by id (50 ids a call, so a burst
of a thousand notifications costs about twenty calls), recorded like any page (same transaction
rules, same stale check: an older copy never replaces a newer one) and the shop is pushed at once,
under the same single-flight lease as a cycle. Cursors are left alone: polling stays the source
of truth, and a notification lost or refused here costs only latency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

import structlog

from sync_job.domain.errors import Stopped
from sync_job.engine.cycle import Cycle, CycleDeps, CycleResult
from sync_job.engine.record import record_orders
from sync_job.engine.shop import ShopContext
from sync_job.state import inbox
from sync_job.state.inbox import InboxRow
from sync_job.state.store import Store

log = structlog.get_logger(__name__)

DETAIL_BATCH = 50  # ids per detail call: the API's maximum
ROUND_LIMIT = 5000  # notifications read per round; more wait for the next round
GIVE_UP_AFTER = 5  # failed rounds before a notification is left to polling
KEEP_SECONDS = 3 * 86400  # worked-off notifications still catch TikTok's repeats this long


class OrderIdsCycle(Cycle):
    """A cycle whose fetch is "these order ids" instead of the cursor windows."""

    def __init__(self, deps: CycleDeps, shop: ShopContext, order_ids: Sequence[str]) -> None:
        super().__init__(deps, shop)
        self.order_ids = list(dict.fromkeys(order_ids))

    def _fetch_all(self, store: Store, heartbeat: Callable[[], None] = lambda: None) -> None:
        """Fetch the orders in batches of 50 and record each batch as one page."""
        tally = self.result.record
        for start in range(0, len(self.order_ids), DETAIL_BATCH):
            batch = self.order_ids[start : start + DETAIL_BATCH]
            raws = self.deps.tiktok.fetch_orders(self.shop.cipher, batch)
            tally.add(record_orders(store, self.shop, raws, self.recent))
            heartbeat()
            if self.deps.should_stop():
                raise Stopped("stop requested")


def work_off_inbox(
    deps: CycleDeps, contexts: Mapping[str, ShopContext], *, limit: int = ROUND_LIMIT
) -> list[CycleResult]:
    """One round: every shop with stored notifications is fetched, recorded and pushed once."""
    db = deps.store.db
    by_shop: dict[str, list[InboxRow]] = defaultdict(list)
    for row in inbox.pending_notifications(db, limit):
        by_shop[row.shop_id].append(row)
    results = []
    for shop_id, rows in by_shop.items():
        if deps.should_stop():
            break
        result = _work_off_shop(deps, contexts.get(shop_id), rows)
        if result is not None:
            results.append(result)
    inbox.prune_notifications(db, deps.clock() - KEEP_SECONDS)
    return results


def _work_off_shop(
    deps: CycleDeps, shop: ShopContext | None, rows: list[InboxRow]
) -> CycleResult | None:
    db, now = deps.store.db, deps.clock()
    # A shop removed from the config since the notification came: nothing to do for it.
    ignored = [r.notification_id for r in rows if r.order_id is None or shop is None]
    inbox.finish_notifications(db, ignored, "ignored", now)
    named = [r for r in rows if r.order_id is not None and shop is not None]
    if not named or shop is None:
        return None
    order_ids = [r.order_id for r in named if r.order_id is not None]
    result = OrderIdsCycle(deps, shop, order_ids).run()
    ids = [r.notification_id for r in named]
    if result.status == "ok":
        inbox.finish_notifications(db, ids, "pushed", deps.clock())
    elif result.status == "failed":
        gave_up = inbox.note_failed_attempt(db, ids, GIVE_UP_AFTER, deps.clock())
        if gave_up:
            log.warning("webhook orders left to polling after repeated failures", count=gave_up)
    # busy (another run holds the shop) or stopped: the notifications wait for the next round.
    log.info(
        "webhook round",
        shop_id=shop.shop_id,
        notifications=len(named),
        orders=len(set(order_ids)),
        status=result.status,
    )
    return result
