"""The webhook inbox: TikTok notifications stored by the receiver, worked off by the trigger.

The receiver writes through its own connection (`InboxWriter`), one tiny transaction per
notification, so answering TikTok never waits on a cycle's connection. The trigger reads and
finishes rows through the cycle's store (the functions below). Counters of what the receiver
did (received, duplicate, rejected, unknown shop) live beside it, for `status` and metrics.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from sync_job.domain.notification import Notification
from sync_job.state.store import Store

COUNTER_KINDS = ("received", "duplicate", "rejected", "unknown_shop")
# How long the receiver waits for SQLite's write lock: well inside the 1 s it promises TikTok.
WRITE_WAIT_MS = 700
LAG_SAMPLE = 100  # the lag figure is the median of this many newest pushed notifications


@dataclass(frozen=True)
class InboxRow:
    """One stored notification not yet worked off."""

    notification_id: str
    shop_id: str
    order_id: str | None
    sent_at: int | None
    attempts: int


def _bump(conn: sqlite3.Connection, kind: str, now: float, n: int = 1) -> None:
    conn.execute(
        "INSERT INTO webhook_counts VALUES (?, ?, ?) "
        "ON CONFLICT (kind) DO UPDATE SET n = n + excluded.n, last_at = excluded.last_at",
        (kind, n, now),
    )


@dataclass
class _Ticket:
    """One notification waiting for a commit, and how it ended."""

    note: Notification
    done: bool = False
    new: bool = False
    error: BaseException | None = None


class InboxWriter:
    """The receiver's connection: stores notifications durably, counts what was refused.

    Group commit: while one thread commits (a full sync: a few milliseconds on a real disk),
    notifications arriving on the other threads queue up, and the next commit takes them all.
    A burst costs a few syncs instead of one per delivery.
    """

    def __init__(self, conn: sqlite3.Connection, *, clock: Callable[[], float] = time.time) -> None:
        self.conn = conn
        self.clock = clock
        self._conn_lock = threading.Lock()  # waitress answers on several threads; one connection
        self._queue_lock = threading.Condition()
        self._queue: list[_Ticket] = []
        self._committing = False
        # Told of every counted delivery (kind, time) once it is committed, e.g. the metrics.
        self.observers: list[Callable[[str, float], None]] = []

    def _counted(self, kind: str, now: float) -> None:
        for observer in self.observers:
            observer(kind, now)

    @classmethod
    def open(cls, path: Path, *, clock: Callable[[], float] = time.time) -> InboxWriter:
        """Open (and migrate) the state database on a connection of the receiver's own."""
        store = Store.open(path, clock=clock)
        conn = store.db.conn
        # The 200 promises the notification is on disk: commit with a full sync.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA busy_timeout={WRITE_WAIT_MS}")
        return cls(conn, clock=clock)

    def store(self, note: Notification) -> bool:
        """Store a notification (committed when this returns); False when it was stored before."""
        ticket = _Ticket(note)
        with self._queue_lock:
            self._queue.append(ticket)
            while not ticket.done and self._committing:
                self._queue_lock.wait()
            if not ticket.done:  # nobody is committing: take everything queued
                self._committing = True
                batch, self._queue = self._queue, []
        if not ticket.done:
            self._commit(batch)
        if ticket.error is not None:
            raise ticket.error
        self._counted("received" if ticket.new else "duplicate", self.clock())
        return ticket.new

    def _commit(self, batch: list[_Ticket]) -> None:
        """Write a batch in one transaction; every ticket learns the outcome."""
        error: BaseException | None = None
        try:
            with self._conn_lock:
                self._write(batch)
        except sqlite3.Error as exc:
            error = exc
        with self._queue_lock:
            for ticket in batch:
                ticket.done, ticket.error = True, error
            self._committing = False
            self._queue_lock.notify_all()

    def _write(self, batch: list[_Ticket]) -> None:
        now = self.clock()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for ticket in batch:
                n = ticket.note
                cursor = self.conn.execute(
                    "INSERT OR IGNORE INTO webhook_inbox (notification_id, shop_id, type, "
                    "order_id, sent_at, received_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (n.notification_id, n.shop_id, n.type, n.order_id, n.timestamp, now),
                )
                ticket.new = cursor.rowcount == 1
            new = sum(1 for ticket in batch if ticket.new)
            for kind, count in (("received", new), ("duplicate", len(batch) - new)):
                if count:
                    _bump(self.conn, kind, now, count)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def count(self, kind: str) -> None:
        """Count a refused or ignored delivery ("rejected", "unknown_shop")."""
        now = self.clock()
        # Best effort: a refusal is answered whether or not its count can be written.
        with self._conn_lock, contextlib.suppress(sqlite3.Error):
            _bump(self.conn, kind, now)
        self._counted(kind, now)

    def close(self) -> None:
        """Close the connection."""
        with self._conn_lock:
            self.conn.close()


# -- the trigger's side (on the cycle's store) -------------------------------------------------


def pending_notifications(db: sqlite_utils.Database, limit: int) -> list[InboxRow]:
    """The oldest notifications not yet worked off, every shop."""
    rows = db.execute(
        "SELECT notification_id, shop_id, order_id, sent_at, attempts FROM webhook_inbox "
        "WHERE processed_at IS NULL ORDER BY received_at LIMIT ?",
        (limit,),
    ).fetchall()
    return [InboxRow(*row) for row in rows]


def _marks(ids: Sequence[str]) -> str:
    return ",".join("?" * len(ids))


def finish_notifications(
    db: sqlite_utils.Database, ids: Sequence[str], outcome: str, now: float
) -> None:
    """Mark notifications worked off ("pushed", "ignored", "gave_up")."""
    for start in range(0, len(ids), 500):  # SQLite caps the number of parameters
        chunk = list(ids[start : start + 500])
        db.execute(
            f"UPDATE webhook_inbox SET processed_at = ?, outcome = ? "
            f"WHERE notification_id IN ({_marks(chunk)})",
            (now, outcome, *chunk),
        )


def note_failed_attempt(
    db: sqlite_utils.Database, ids: Sequence[str], give_up_after: int, now: float
) -> int:
    """Count a failed attempt; rows that failed `give_up_after` times are left to polling."""
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        db.execute(
            f"UPDATE webhook_inbox SET attempts = attempts + 1 "
            f"WHERE notification_id IN ({_marks(chunk)})",
            tuple(chunk),
        )
    cursor = db.execute(
        "UPDATE webhook_inbox SET processed_at = ?, outcome = 'gave_up' "
        "WHERE processed_at IS NULL AND attempts >= ?",
        (now, give_up_after),
    )
    return int(cursor.rowcount)


def prune_notifications(db: sqlite_utils.Database, before: float) -> int:
    """Forget notifications worked off before `before` (TikTok stops retrying within a day)."""
    cursor = db.execute(
        "DELETE FROM webhook_inbox WHERE processed_at IS NOT NULL AND processed_at < ?", (before,)
    )
    return int(cursor.rowcount)


def webhook_health(db: sqlite_utils.Database) -> dict[str, Any]:
    """Counts, last delivery, backlog and the recent lag (TikTok's timestamp → pushed)."""
    counts = dict.fromkeys(COUNTER_KINDS, 0)
    last: dict[str, float] = {}
    for kind, n, last_at in db.execute("SELECT kind, n, last_at FROM webhook_counts"):
        counts[kind], last[kind] = int(n), float(last_at)
    # A signed delivery, new or repeated: proof that TikTok reaches the endpoint.
    received = [last[k] for k in ("received", "duplicate", "unknown_shop") if k in last]
    pending = db.execute(
        "SELECT COUNT(*) FROM webhook_inbox WHERE processed_at IS NULL"
    ).fetchone()[0]
    lags = [
        float(row[0])
        for row in db.execute(
            "SELECT processed_at - sent_at FROM webhook_inbox WHERE outcome = 'pushed' "
            "AND sent_at IS NOT NULL ORDER BY processed_at DESC LIMIT ?",
            (LAG_SAMPLE,),
        )
    ]
    return {
        **counts,
        "last_received_at": max(received) if received else None,
        "last_rejected_at": last.get("rejected"),
        "pending": int(pending),
        "lag_seconds": sorted(lags)[len(lags) // 2] if lags else None,
    }
