"""Retention: keep the state file from growing for ever.

Two things grow with time: a `runs` row per shop per cycle (~500,000 a year at 60 s) and every
order's raw TikTok JSON. Retention deletes runs older than `runs_days` (each shop's newest run
stays, for `status`), and slims the raw JSON of orders that are finished (COMPLETED or CANCELLED),
were recorded more than `raw_days` ago and have nothing left in the outbox, down to the fields
the job reads again (domain.orders.slim_order): the ledger, replanning after a late return and
`verify` work the same on the slim copy. It runs at most once a day (shared by every process
using the state file), from `once` and from the daemon's cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync_job.domain import jsonutil
from sync_job.domain.orders import slim_order
from sync_job.state.db import iso_now
from sync_job.state.store import Store

TASK = "retention"
EVERY_SECONDS = 86400.0
FINISHED = ("COMPLETED", "CANCELLED")
BATCH = 500  # orders slimmed per transaction: other runs never wait long for the write lock


@dataclass(frozen=True)
class RetentionPolicy:
    """How long runs and full raw payloads are kept, in days."""

    runs_days: int = 30
    raw_days: int = 90


@dataclass
class RetentionResult:
    """What one application removed."""

    runs_deleted: int = 0
    orders_slimmed: int = 0


def apply_retention_if_due(store: Store, policy: RetentionPolicy) -> RetentionResult | None:
    """Apply retention when it last ran a day ago or more (or never); None when not due."""
    now = store.clock()
    row = store.db.execute("SELECT done_at FROM maintenance WHERE task = ?", (TASK,)).fetchone()
    last = None if row is None else float(row[0])
    if last is not None and now - last < EVERY_SECONDS:
        return None
    result = apply_retention(store, policy, last_applied=last)
    store.db.execute(
        "INSERT INTO maintenance VALUES (?, ?) ON CONFLICT (task) DO UPDATE SET done_at = ?",
        (TASK, now, now),
    )
    return result


def apply_retention(
    store: Store, policy: RetentionPolicy, *, last_applied: float | None = None
) -> RetentionResult:
    """Delete old runs and slim old finished orders' raw JSON, now.

    `last_applied`: when retention last ran; only orders recorded since a week before its
    cutoff are looked at again (the older ones were slimmed then).
    """
    now = store.clock()
    cutoff = now - policy.raw_days * 86400
    since = "" if last_applied is None else _iso(last_applied - policy.raw_days * 86400 - 7 * 86400)
    result = RetentionResult()
    result.runs_deleted = _delete_runs(store, _iso(now - policy.runs_days * 86400))
    result.orders_slimmed = _slim_orders(store, since, _iso(cutoff))
    return result


def _iso(seconds: float) -> str:
    return iso_now(lambda: seconds)


def _delete_runs(store: Store, before: str) -> int:
    """Runs started before `before`, except each shop's newest and any still running."""
    with store.transaction("delete old runs"):
        cursor = store.db.execute(
            "DELETE FROM runs WHERE started_at < ? AND status != 'running' "
            "AND rowid NOT IN (SELECT MAX(rowid) FROM runs GROUP BY shop_id)",
            (before,),
        )
    return int(cursor.rowcount)


def _slim_orders(store: Store, since: str, before: str) -> int:
    """Slim the raw JSON of finished orders recorded in [since, before) with no outbox rows."""
    marks = ",".join("?" * len(FINISHED))
    slimmed, after = 0, 0
    while True:
        rows = store.db.execute(
            f"SELECT rowid, raw FROM orders WHERE rowid > ? AND status IN ({marks}) "
            "AND recorded_at >= ? AND recorded_at < ? AND NOT EXISTS (SELECT 1 FROM outbox o "
            "WHERE o.shop_id = orders.shop_id AND o.order_id = orders.order_id) "
            "ORDER BY rowid LIMIT ?",
            (after, *FINISHED, since, before, BATCH),
        ).fetchall()
        if not rows:
            return slimmed
        after = rows[-1][0]
        with store.transaction("slim old orders"):
            for rowid, raw in rows:
                slim = jsonutil.dumps(slim_order(jsonutil.loads(raw)), sort_keys=True)
                if len(slim) < len(raw):
                    store.db.execute("UPDATE orders SET raw = ? WHERE rowid = ?", (slim, rowid))
                    slimmed += 1
