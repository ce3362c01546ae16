"""The state database: one SQLite file (via sqlite-utils) holding everything the job knows.

Tables: orders (snapshot), returns, ledger (what DealPOS has), outbox, cursors, attention, runs,
tokens, locks, webhook_inbox (see inbox.py). Writes that belong together go through
one named unit of work, `Store.transaction(name)`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sync_job.domain import jsonutil
from sync_job.domain.model import Tokens
from sync_job.state import tokens
from sync_job.state.ledger import LedgerRow, LedgerTable
from sync_job.state.outbox import OutboxRow, OutboxTable
from sync_job.state.runs import RunTables
from sync_job.state.snapshot import SnapshotTables

# The row types live with their tables (ledger.py, outbox.py); callers import them from here too.
__all__ = ["LedgerRow", "OutboxRow", "Store"]


class Store(SnapshotTables, LedgerTable, OutboxTable, RunTables):
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

    # -- attention --------------------------------------------------------------------------------

    def raise_attention(
        self,
        shop_id: str,
        order_id: str,
        kind: str,
        key: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Open (or re-open, with the newest message) a work item for a person."""
        self.db.execute(
            "INSERT INTO attention (shop_id, order_id, kind, key, message, details, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shop_id, kind, key) DO UPDATE SET "
            "message = excluded.message, details = excluded.details, resolved_at = NULL",
            (
                shop_id,
                order_id,
                kind,
                key,
                message,
                jsonutil.dumps(details) if details else None,
                self.now(),
            ),
        )

    def resolve_attention(self, shop_id: str, kind: str, key: str) -> None:
        """Mark a work item resolved (it fixed itself, e.g. a return was withdrawn)."""
        self.db.execute(
            "UPDATE attention SET resolved_at = ? WHERE shop_id = ? AND kind = ? AND key = ? "
            "AND resolved_at IS NULL",
            (self.now(), shop_id, kind, key),
        )

    def open_attention(self, shop_id: str) -> list[dict[str, Any]]:
        """Every unresolved work item of a shop, oldest first."""
        rows = self._all(
            "SELECT id, kind, order_id, message, created_at FROM attention "
            "WHERE shop_id = ? AND resolved_at IS NULL ORDER BY id",
            (shop_id,),
        )
        return [dict(r) for r in rows]
