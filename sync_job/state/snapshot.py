"""The snapshot: the newest copy of each TikTok order and return this job recorded.

Recording writes it (one page per unit of work); pushing, verify and replanning read orders from
here, never from TikTok.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sync_job.domain import jsonutil
from sync_job.state.db import StoreBase


class SnapshotTables(StoreBase):
    """The orders and returns tables: the newest copy TikTok gave of each."""

    def get_order_versions(self, shop_id: str, order_ids: list[str]) -> dict[str, tuple[int, str]]:
        """(update_time, content hash) of the recorded copy of each order id present."""
        if not order_ids:
            return {}
        marks = ",".join("?" * len(order_ids))
        rows = self._all(
            f"SELECT order_id, update_time, content_hash FROM orders "
            f"WHERE shop_id = ? AND order_id IN ({marks})",
            (shop_id, *order_ids),
        )
        return {r["order_id"]: (r["update_time"], r["content_hash"]) for r in rows}

    def record_order(
        self,
        shop_id: str,
        order_id: str,
        status: str,
        update_time: int,
        content_hash: str,
        raw: dict[str, Any],
        *,
        text: str | None = None,
    ) -> None:
        """Store the newest copy of an order (`text`: `raw` already serialised, to reuse)."""
        raw_text = jsonutil.dumps(raw) if text is None else text
        self.db.execute(
            "INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)",
            (shop_id, order_id, status, update_time, content_hash, raw_text, self.now()),
        )

    def get_order_status(self, shop_id: str, order_id: str) -> tuple[str, int] | None:
        """(status, update_time) of the recorded copy of an order, or None."""
        row = self._one(
            "SELECT status, update_time FROM orders WHERE shop_id = ? AND order_id = ?",
            (shop_id, order_id),
        )
        return None if row is None else (str(row["status"]), int(row["update_time"]))

    def get_order_raw(self, shop_id: str, order_id: str) -> dict[str, Any] | None:
        """The recorded raw TikTok order, or None."""
        row = self._one(
            "SELECT raw FROM orders WHERE shop_id = ? AND order_id = ?", (shop_id, order_id)
        )
        return None if row is None else dict(jsonutil.loads(row["raw"]))

    def iter_orders_invoiced_between(
        self, shop_id: str, start: int, end: int
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(order id, status, raw) of the orders whose invoice time (paid, else created, else
        updated) falls in [start, end), oldest first; read lazily, a row at a time."""
        invoiced_at = (
            "COALESCE(NULLIF(CAST(json_extract(raw, '$.paid_time') AS INTEGER), 0), "
            "NULLIF(CAST(json_extract(raw, '$.create_time') AS INTEGER), 0), update_time)"
        )
        cursor = self.db.execute(
            f"SELECT order_id, status, raw FROM orders WHERE shop_id = ? "
            f"AND {invoiced_at} >= ? AND {invoiced_at} < ? ORDER BY order_id",
            (shop_id, start, end),
        )
        for order_id, status, raw in cursor:
            yield order_id, status, dict(jsonutil.loads(raw))

    def get_return_update_time(self, shop_id: str, return_id: str) -> int | None:
        """The update_time of the recorded copy of a return."""
        row = self._one(
            "SELECT update_time FROM returns WHERE shop_id = ? AND return_id = ?",
            (shop_id, return_id),
        )
        return None if row is None else int(row["update_time"])

    def record_return(
        self,
        shop_id: str,
        return_id: str,
        order_id: str,
        status: str,
        update_time: int,
        raw: dict[str, Any],
    ) -> None:
        """Store the newest copy of a return."""
        self.db.execute(
            "INSERT OR REPLACE INTO returns VALUES (?, ?, ?, ?, ?, ?)",
            (shop_id, return_id, order_id, status, update_time, jsonutil.dumps(raw)),
        )

    def get_return_statuses(self, shop_id: str, order_id: str) -> list[str]:
        """The statuses of every recorded return of an order."""
        rows = self._all(
            "SELECT return_status FROM returns WHERE shop_id = ? AND order_id = ?",
            (shop_id, order_id),
        )
        return [r["return_status"] for r in rows]
