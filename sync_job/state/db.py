"""The state file's connection and its one transaction API, shared by every table family.

`StoreBase` opens the file (safe permissions, WAL, migrations), keeps the clock and the time as
stored, and groups writes into named units of work (`transaction(name)`) that never nest. Each
table family (state/snapshot.py, ledger.py, outbox.py, ...) adds its SQL on top of it, and
`Store` (state/store.py) is all of them together.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import sqlite_utils

from sync_job.domain.errors import StateError
from sync_job.state import problems
from sync_job.state.migrations import migrate, migrations, needs_migration

WAL_ATTEMPTS = 250  # x 20 ms: how long opening waits for a racing process to set up the file


class NestedUnitError(RuntimeError):
    """A unit of work was opened inside another (a programming error)."""


def _secure_path(path: Path) -> None:
    """Create the folder (0700) and file (0600) before SQLite does, so nobody else can read them."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)  # a racing run may win
    # Only a file that does not exist yet: closing any descriptor of a database file drops every
    # POSIX lock this process holds on it, and so the locks of SQLite connections already open
    # (the webhook receiver's, the shared quota's). Another process may then take itself for the
    # last user, checkpoint and delete the WAL under us: "disk I/O error" and lost commits.
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _enable_wal(db: sqlite_utils.Database) -> None:
    """Switch to WAL; two processes creating the file at once may each be refused a moment."""
    for attempt in range(WAL_ATTEMPTS):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            # Changing the journal mode does not wait on the busy timeout: wait here, briefly.
            if "locked" not in str(exc) or attempt == WAL_ATTEMPTS - 1:
                raise
            time.sleep(0.02)


@contextlib.contextmanager
def _explained(path: Path) -> Iterator[None]:
    """Turn a damaged, unwritable or misplaced state file into one StateError naming it."""
    try:
        yield
    except (OSError, sqlite3.DatabaseError) as exc:
        problem = problems.state_error(exc, path)
        if problem is None:
            raise
        raise problem from None


def connect_writer(target: str, *, uri: bool = False) -> sqlite3.Connection:
    """A read-write connection to the state file, set up as every writer of it uses one."""
    # isolation_level=None: no implicit transactions; writes are grouped explicitly.
    conn = sqlite3.connect(
        target, uri=uri, timeout=30, check_same_thread=False, isolation_level=None
    )
    try:
        # In WAL mode a commit then writes the log without waiting for the disk (fsync): it
        # survives a crash of the process; an OS crash may lose the last commits.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
    except BaseException:
        conn.close()
        raise
    return conn


def iso_now(clock: Callable[[], float]) -> str:
    """The clock's now as an ISO-8601 UTC timestamp."""
    return datetime.fromtimestamp(clock(), UTC).isoformat(timespec="seconds")


class StoreBase:
    """The connection, its clock and the unit-of-work API every table family builds on."""

    def __init__(
        self, db: sqlite_utils.Database, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.clock = clock
        self.path: Path | None = None  # the file, once opened from one
        self._now_second: int | None = None
        self._now_text = ""
        self._unit: str | None = None

    @classmethod
    def open(cls, path: Path, *, clock: Callable[[], float] = time.time) -> Self:
        """Open (creating with safe permissions and migrating) the state database at `path`.

        A file that cannot be used raises StateError (see state/problems.py), never a raw error.
        """
        with _explained(path):
            _secure_path(path)
            conn = connect_writer(str(path))  # writes are grouped by transaction()
            db = sqlite_utils.Database(conn)
            try:
                _enable_wal(db)
                migrate(db, path)
            except BaseException:
                conn.close()
                raise
        store = cls(db, clock=clock)
        store.path = path
        return store

    @classmethod
    def open_readonly(cls, path: Path, *, clock: Callable[[], float] = time.time) -> Self | None:
        """Open an existing state database for reading only; None when there is none yet."""
        if not path.exists():
            return None
        with _explained(path):
            if path.is_dir():
                raise problems.is_a_folder(path)
            if needs_migration(path):
                cls.open(path, clock=clock).close()  # an older file: update its schema first
            uri = f"{path.absolute().as_uri()}?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
            conn.isolation_level = None
        store = cls(sqlite_utils.Database(conn), clock=clock)
        store.path = path
        return store

    def explain(self, exc: BaseException) -> StateError | None:
        """The StateError a failure while using this file stands for (None: not a file problem)."""
        return problems.state_error(exc, self.path or Path(":memory:"))

    @classmethod
    def memory(cls, *, clock: Callable[[], float] = time.time) -> Self:
        """An in-memory store (dry runs and tests)."""
        db = sqlite_utils.Database(sqlite3.connect(":memory:", isolation_level=None))
        migrations.apply(db)
        return cls(db, clock=clock)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextlib.contextmanager
    def transaction(self, name: str) -> Iterator[None]:
        """Run one named unit of work: all its writes are on disk when the block exits, or none.

        The only way to group writes. It takes the write lock at once (BEGIN IMMEDIATE: two
        processes never deadlock upgrading read locks). Units never nest: one opened inside
        another raises, so no write's durability depends on what its caller had open. A store
        write made outside any unit is a unit of its own (on disk when it returns).
        """
        if self._unit is not None or self.db.conn.in_transaction:
            raise NestedUnitError(f"unit {name!r} opened inside unit {self._unit!r}")
        self.db.conn.execute("BEGIN IMMEDIATE")
        self._unit = name
        try:
            yield
            self.db.conn.execute("COMMIT")
        except BaseException:
            # Also when COMMIT itself failed (disk full): never leave the unit open behind us.
            if self.db.conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.db.conn.execute("ROLLBACK")
            raise
        finally:
            self._unit = None

    @property
    def unit(self) -> str | None:
        """The name of the unit of work open now, or None."""
        return self._unit

    def now(self) -> str:
        """Now, as stored (whole seconds: formatted once per second)."""
        second = int(self.clock())
        if second != self._now_second:
            self._now_second, self._now_text = second, iso_now(lambda: second)
        return self._now_text

    def _one(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Row | None:
        cursor = self.db.execute(sql, params)
        cursor.row_factory = sqlite3.Row
        row: sqlite3.Row | None = cursor.fetchone()
        return row

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        cursor = self.db.execute(sql, params)
        cursor.row_factory = sqlite3.Row
        return cursor.fetchall()
