"""The DealPOS quota as every process using this state file sees it: a shared call log.

DealPOS counts calls per tenant, whoever makes them. A daemon, a backfill and a `once` on one
state file each pacing on their own would together overrun the quota (and meet 429s). Each
process's Pacer therefore also asks this log: a call may start only while fewer than `limit`
calls of the tenant completed (or are in flight) within the last `window` seconds, across
processes; a hold a 429 or `RateLimit-Remaining: 0` imposed is shared too. Times are wall-clock
seconds (every process on the host reads the same clock).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import structlog

from sync_job.state.db import connect_writer

log = structlog.get_logger(__name__)

# A reservation never completed (its process was killed) stops counting after this long.
STALE_SECONDS = 600.0


class SharedQuota:
    """A tenant's calls and holds in the state file, on a connection of its own."""

    def __init__(
        self,
        path: Path,
        tenant: str,
        limit: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.tenant = tenant
        self.limit = limit
        self.window = float(window_seconds)
        self.clock = clock
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:  # opened on first use: a run with nothing to push never opens it
            # mode=rw: never create the state file here (Store.open creates it, privately).
            # As the Store's connection (its commits do not wait for the disk: an OS crash may
            # lose the last calls noted, which costs at worst a 429 the pacer then holds on).
            self._conn = connect_writer(f"{self.path.absolute().as_uri()}?mode=rw", uri=True)
        return self._conn

    def reserve(self) -> tuple[int | None, float]:
        """(reservation id, 0) when a call may start now, else (None, seconds to wait).

        A state file that cannot take the reservation (disk full, ...) never stops pushing:
        the call goes ahead, paced by this process alone.
        """
        with self._lock:
            try:
                return self._reserve_once(self._db())
            except sqlite3.Error as exc:
                log.warning("shared quota unavailable, pacing alone", error=str(exc))
                return None, 0.0

    def _reserve_once(self, db: sqlite3.Connection) -> tuple[int | None, float]:
        db.execute("BEGIN IMMEDIATE")  # one process at a time decides
        try:
            answer = self._reserve(db, self.clock())
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return answer

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
                self._complete(reservation, hold_seconds)
            except sqlite3.Error as exc:  # the reservation then ages out on its own
                log.warning("shared quota unavailable, pacing alone", error=str(exc))

    def _complete(self, reservation: int | None, hold_seconds: float | None) -> None:
        db, now = self._db(), self.clock()
        if reservation is not None:
            db.execute("UPDATE quota_calls SET at = ?, done = 1 WHERE id = ?", (now, reservation))
        if hold_seconds is not None and hold_seconds > 0:
            db.execute(
                "INSERT INTO quota_holds VALUES (?, ?) ON CONFLICT (tenant) "
                "DO UPDATE SET until = MAX(until, excluded.until)",
                (self.tenant, now + hold_seconds),
            )

    def close(self) -> None:
        """Close the quota's own connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
