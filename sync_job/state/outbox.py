"""The outbox: every DealPOS call planned and not yet confirmed, in the order it must be made.

A call is written here (pending) before it is made, marked in flight (in doubt) just before it
leaves, and deleted in the unit of work that records DealPOS's confirmation in the ledger. States
are the ones named in domain/outbox.py.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync_job.domain.flow import Action
from sync_job.domain.outbox import OUTBOX_STATES, OutboxState, outbox_state
from sync_job.state.db import StoreBase


@dataclass(frozen=True)
class OutboxRow:
    """One outbox action as stored."""

    id: int
    shop_id: str
    order_id: str
    action: Action
    state: OutboxState
    in_doubt: bool
    attempts: int
    last_error: str | None


class OutboxTable(StoreBase):
    """The outbox table: planned calls, pending, in flight or quarantined."""

    def _outbox_row(self, row: sqlite3.Row) -> OutboxRow:
        action = Action(row["action"], row["fulfillment"], row["payment"])
        return OutboxRow(
            row["id"],
            row["shop_id"],
            row["order_id"],
            action,
            outbox_state(row["state"]),
            bool(row["in_doubt"]),
            row["attempts"],
            row["last_error"],
        )

    def get_outbox_for_order(self, shop_id: str, order_id: str) -> list[OutboxRow]:
        """Every outbox row of one order, oldest first."""
        rows = self._all(
            "SELECT * FROM outbox WHERE shop_id = ? AND order_id = ? ORDER BY id",
            (shop_id, order_id),
        )
        return [self._outbox_row(r) for r in rows]

    def replace_outbox(
        self,
        shop_id: str,
        order_id: str,
        actions: list[Action],
        state: OutboxState,
        last_error: str | None = None,
    ) -> None:
        """Swap an order's not-yet-sent actions (pending/quarantined) for a new plan."""
        self.db.execute(
            "DELETE FROM outbox WHERE shop_id = ? AND order_id = ? AND state != 'in_flight'",
            (shop_id, order_id),
        )
        now = self.now()
        for action in actions:
            self.db.execute(
                "INSERT INTO outbox (shop_id, order_id, action, fulfillment, payment, state, "
                "last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    shop_id,
                    order_id,
                    action.kind,
                    action.fulfillment,
                    action.payment,
                    state,
                    last_error,
                    now,
                    now,
                ),
            )

    def get_outbox_row(self, row_id: int) -> OutboxRow | None:
        """One outbox row as it is now, or None when it is gone (done or re-planned)."""
        row = self._one("SELECT * FROM outbox WHERE id = ?", (row_id,))
        return None if row is None else self._outbox_row(row)

    def next_pending_orders(self, shop_id: str, after_id: int, limit: int) -> list[OutboxRow]:
        """Actionable rows (pending or in flight) in outbox order, past row id `after_id`."""
        rows = self._all(
            "SELECT * FROM outbox WHERE shop_id = ? AND state IN ('pending', 'in_flight') "
            "AND id > ? ORDER BY id LIMIT ?",
            (shop_id, after_id, limit),
        )
        return [self._outbox_row(r) for r in rows]

    def mark_in_flight(self, row_id: int) -> None:
        """A call is about to leave: a crash from here on leaves the outcome in doubt."""
        self.db.execute(
            "UPDATE outbox SET state = 'in_flight', in_doubt = 1, attempts = attempts + 1, "
            "updated_at = ? WHERE id = ?",
            (self.now(), row_id),
        )

    def mark_not_sent(self, row_id: int, error: str) -> None:
        """The call certainly did not apply (refused, or looked up and absent): pending again."""
        self.db.execute(
            "UPDATE outbox SET state = 'pending', in_doubt = 0, last_error = ?, updated_at = ? "
            "WHERE id = ?",
            (error, self.now(), row_id),
        )

    def release_to_pending(self, row_id: int, error: str) -> None:
        """Leave an action for the next run; one whose outcome is in doubt stays in flight."""
        self.db.execute(
            "UPDATE outbox SET state = CASE WHEN in_doubt THEN 'in_flight' ELSE 'pending' END, "
            "last_error = ?, updated_at = ? WHERE id = ?",
            (error, self.now(), row_id),
        )

    def outbox_in_doubt(self, row_id: int) -> bool:
        """True when an earlier try of this action may have reached DealPOS."""
        row = self._one("SELECT in_doubt FROM outbox WHERE id = ?", (row_id,))
        return bool(row and row["in_doubt"])

    def outbox_updated_at(self, row_id: int) -> float | None:
        """When an outbox row last changed (e.g. its call was sent), as Unix seconds."""
        row = self._one("SELECT updated_at FROM outbox WHERE id = ?", (row_id,))
        return None if row is None else datetime.fromisoformat(row["updated_at"]).timestamp()

    def finish_action(self, row_id: int) -> None:
        """The action is confirmed by DealPOS: drop it from the outbox."""
        self.db.execute("DELETE FROM outbox WHERE id = ?", (row_id,))

    def quarantine(self, row: OutboxRow, error: str) -> None:
        """Park a refused action and the order's later actions behind it; `retry` undoes it."""
        self.db.execute(
            "UPDATE outbox SET state = 'quarantined', in_doubt = 0, last_error = ?, updated_at = ? "
            "WHERE shop_id = ? AND order_id = ? AND id >= ?",
            (error, self.now(), row.shop_id, row.order_id, row.id),
        )

    def requeue_quarantined(self, shop_id: str | None, order_id: str | None) -> int:
        """Put quarantined actions back to pending; returns how many."""
        sql = "UPDATE outbox SET state = 'pending', updated_at = ? WHERE state = 'quarantined'"
        params: list[Any] = [self.now()]
        if shop_id is not None:
            sql += " AND shop_id = ?"
            params.append(shop_id)
        if order_id is not None:
            sql += " AND order_id = ?"
            params.append(order_id)
        cursor = self.db.execute(sql, tuple(params))  # one statement: on disk when it returns
        return int(cursor.rowcount)

    def outbox_counts(self, shop_id: str) -> dict[str, int]:
        """How many outbox rows are pending, in flight and quarantined."""
        counts: dict[str, int] = dict.fromkeys(OUTBOX_STATES, 0)
        for row in self._all(
            "SELECT state, COUNT(*) AS n FROM outbox WHERE shop_id = ? GROUP BY state", (shop_id,)
        ):
            counts[row["state"]] = int(row["n"])
        return counts
