"""`Store`: the state database with every table family's methods, on one connection.

Each family keeps its own SQL in its own module, as a `StoreBase` subclass (state/db.py: the
connection, the clock and the one transaction API, `Store.transaction(name)`):
snapshot.py (orders, returns), ledger.py, outbox.py, runs.py (runs, cursors), attention.py and
tokens.py. `Store` inherits them all, so a caller holds one object (`store.get_ledger(...)`,
`store.mark_in_flight(...)`) and every unit of work spans whichever tables it needs. Tables with
their own objects or functions over a `Store`: locks.py, quota.py, inbox.py, verifications.py,
verify_requests.py, variants.py, tenant.py, retention.py.
"""

from __future__ import annotations

from pathlib import Path

from sync_job.state.attention import AttentionTable
from sync_job.state.ledger import LedgerTable
from sync_job.state.outbox import OutboxTable
from sync_job.state.runs import RunTables
from sync_job.state.snapshot import SnapshotTables
from sync_job.state.tokens import TokenTable


class Store(SnapshotTables, LedgerTable, OutboxTable, RunTables, AttentionTable, TokenTable):
    """Typed access to the state database: every table family on one connection."""

    def second_connection(self) -> Store:
        """Another Store on the same file (the same one for an in-memory store)."""
        row = self.db.execute("PRAGMA database_list").fetchone()
        return Store.open(Path(row[2]), clock=self.clock) if row and row[2] else self
