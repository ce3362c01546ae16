"""A dry run's view of the state file: every unit of work is applied, read back, then undone.

A dry run must change nothing and still plan exactly as a real run would, page by page. Copying
the whole state file into memory did that at the price of its size in RAM (479 MB for a 416 MB
state file). Here the dry run works on the real file instead: each unit of work
(`transaction()`) runs inside a transaction that is rolled back at its end, so the next unit
starts from the file as it was. The write lock is held only for one unit (one page), as in a
real run; nothing ever commits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sync_job.state.db import NestedUnitError
from sync_job.state.store import Store


class RolledBackStore(Store):
    """The same database connection as `store`, where no unit of work is ever committed."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.db, clock=store.clock)

    @contextlib.contextmanager
    def transaction(self, name: str) -> Iterator[None]:
        """Run the unit like a real one (write lock at once, never nested), then undo it."""
        if self.unit is not None or self.db.conn.in_transaction:
            raise NestedUnitError(f"unit {name!r} opened inside unit {self.unit!r}")
        # IMMEDIATE: take the write lock now, so no other run's commit can make this unit's
        # snapshot stale halfway (the unit then could not write at all).
        self.db.execute("BEGIN IMMEDIATE")
        self._unit = name
        try:
            yield
        finally:
            self._unit = None
            self.db.execute("ROLLBACK")

    def close(self) -> None:
        """Leave the connection open: it belongs to the real store."""
