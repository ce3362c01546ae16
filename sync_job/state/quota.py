"""The DealPOS quota as every process using this state file sees it: a shared call log.

DealPOS counts calls per tenant, whoever makes them. A daemon, a backfill and a `once` on one
state file each pacing on their own would together overrun the quota (and meet 429s). Each
process's Pacer therefore also asks this log: a call may start only while fewer than `limit`
calls of the tenant completed (or are in flight) within the last `window` seconds, across
processes; a hold a 429 or `RateLimit-Remaining: 0` imposed is shared too. Times are wall-clock
seconds (every process on the host reads the same clock).

The log lives on the Store's own connection, in units of work of their own: a second connection
would make each side re-read the pages the other wrote, on every call. A reservation is never
taken inside another unit (a DealPOS call never goes out with a unit open): one that were would
raise NestedUnitError, as any nested unit does.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable

import structlog

from sync_job.state.db import StoreBase

log = structlog.get_logger(__name__)

# A reservation never completed (its process was killed) stops counting after this long.
STALE_SECONDS = 600.0


class SharedQuota:
    """A tenant's calls and holds in the state file, on the Store's connection."""

    def __init__(
        self,
        store: StoreBase,
        tenant: str,
        limit: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.tenant = tenant
        self.limit = limit
        self.window = float(window_seconds)
        self.clock = clock
        self._lock = threading.Lock()

    def reserve(self) -> tuple[int | None, float]:
        """(reservation id, 0) when a call may start now, else (None, seconds to wait).

        A state file that cannot take the reservation (disk full, ...) never stops pushing:
        the call goes ahead, paced by this process alone.
        """
        with self._lock:
            try:
                # BEGIN IMMEDIATE: one process at a time decides.
                with self.store.transaction("reserve a DealPOS call"):
                    return self._reserve(self.store.db.conn, self.clock())
            except sqlite3.Error as exc:
                log.warning("shared quota unavailable, pacing alone", error=str(exc))
                return None, 0.0

    def _reserve(self, db: sqlite3.Connection, now: float) -> tuple[int | None, float]:
        db.execute(
            "DELETE FROM quota_calls WHERE tenant = ? AND ((done = 1 AND at <= ?) "
            "OR (done = 0 AND at <= ?))",
            (self.tenant, now - self.window, now - self.window - STALE_SECONDS),
        )
        hold = db.execute(
            "SELECT until FROM quota_holds WHERE tenant = ?", (self.tenant,)
        ).fetchone()
        if hold is not None and hold[0] > now:
            return None, float(hold[0]) - now
        # What the DELETE left are the calls that count: done within the window, or in flight.
        (used,) = db.execute(
            "SELECT COUNT(*) FROM quota_calls WHERE tenant = ?", (self.tenant,)
        ).fetchone()
        if used < self.limit:
            cursor = db.execute(
                "INSERT INTO quota_calls (tenant, at, done) VALUES (?, ?, 0)", (self.tenant, now)
            )
            return cursor.lastrowid, 0.0
        # Counting from the oldest completion, the one at offset (used - limit) frees our slot.
        freed = db.execute(
            "SELECT at FROM quota_calls WHERE tenant = ? AND done = 1 ORDER BY at LIMIT 1 OFFSET ?",
            (self.tenant, used - self.limit),
        ).fetchone()
        if freed is None:  # all slots held by calls in flight: poll at the average spacing
            return None, self.window / self.limit
        return None, max(float(freed[0]) + self.window - now, 0.001)

    def complete(self, reservation: int | None, hold_seconds: float | None) -> None:
        """The reserved call ended now (it counts from now); share a server-imposed hold."""
        with self._lock:
            try:
                with self.store.transaction("complete a DealPOS call"):
                    self._complete(reservation, hold_seconds)
            except sqlite3.Error as exc:  # the reservation then ages out on its own
                log.warning("shared quota unavailable, pacing alone", error=str(exc))

    def _complete(self, reservation: int | None, hold_seconds: float | None) -> None:
        db, now = self.store.db.conn, self.clock()
        if reservation is not None:
            db.execute("UPDATE quota_calls SET at = ?, done = 1 WHERE id = ?", (now, reservation))
        if hold_seconds is not None and hold_seconds > 0:
            db.execute(
                "INSERT INTO quota_holds VALUES (?, ?) ON CONFLICT (tenant) "
                "DO UPDATE SET until = MAX(until, excluded.until)",
                (self.tenant, now + hold_seconds),
            )
