"""The state database: one SQLite file (via sqlite-utils) holding everything the job knows.

Tables: orders (snapshot), returns, ledger (what DealPOS has), outbox, cursors, attention, runs,
tokens, locks, webhook_inbox (see inbox.py). Writes that belong together go through
one named unit of work, `Store.transaction(name)`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from sync_job.domain.model import Tokens
from sync_job.state import tokens
from sync_job.state.attention import AttentionTable
from sync_job.state.ledger import LedgerRow, LedgerTable
from sync_job.state.outbox import OutboxRow, OutboxTable
from sync_job.state.runs import RunTables
from sync_job.state.snapshot import SnapshotTables

# The row types live with their tables (ledger.py, outbox.py); callers import them from here too.
__all__ = ["LedgerRow", "OutboxRow", "Store"]


class Store(SnapshotTables, LedgerTable, OutboxTable, RunTables, AttentionTable):
    """Typed access to the state database."""

    # -- tokens (the TikTok TokenStore protocol) ------------------------------------------------

    def load_tokens(self, app_key: str) -> Tokens | None:
        """The newest TikTok tokens saved for this app, if any."""
        return tokens.load_tokens(self.db.conn, app_key)

    def save_tokens(self, app_key: str, pair: Tokens) -> None:
        """Persist a refreshed pair (a refresh invalidates the old refresh token).

        Inside `tokens_locked()` (the unit that read the pair it replaces) it is part of that
        unit; anywhere else it is a unit of its own.
        """
        if self._unit is None:
            with self.transaction("save tokens"):
                tokens.save_refreshed(self.db.conn, app_key, pair, self.clock)
        else:  # part of tokens_locked()'s unit: on disk when that unit exits
            tokens.save_refreshed(self.db.conn, app_key, pair, self.clock)

    def replace_tokens(self, app_key: str, pair: Tokens, *, seed: str | None) -> None:
        """Put `pair` in place of the stored one (`sync-job connect`, a new configured pair).

        `seed`: `tokens.seed_of(...)` of the configured pair it came from; None (connect): the
        pair the next run finds configured, whatever it is, becomes the baseline and does not
        replace this one; only a later change of the configured pair does.
        """
        with self.transaction("replace tokens"):
            tokens.replace_tokens(self.db.conn, app_key, pair, seed=seed, clock=self.clock)

    @contextlib.contextmanager
    def tokens_locked(self) -> Iterator[None]:
        """Hold the database's write lock (BEGIN IMMEDIATE) around a token read-refresh-save."""
        with self.transaction("read, refresh and save tokens"):
            yield

    def seeded_tokens(self, app_key: str, configured: Tokens) -> Tokens:
        """The pair to start from: the stored one, or the configured one once it changed."""
        with self.transaction("seed tokens"):
            return tokens.seeded_tokens(self.db.conn, app_key, configured, self.clock)

    def second_connection(self) -> Store:
        """Another Store on the same file (the same one for an in-memory store)."""
        row = self.db.execute("PRAGMA database_list").fetchone()
        return Store.open(Path(row[2]), clock=self.clock) if row and row[2] else self
