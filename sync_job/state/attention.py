"""Attention items: raised by the engine for a person, worked through by that person.

`AttentionTable` (part of `Store`) opens, re-opens and resolves an item by its key. A person lists
them with ids and marks them done by id or by kind: the `sync-job attention` command and the
operator page call these same functions, so "done" means the same thing wherever it is clicked or
typed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sync_job.domain import jsonutil
from sync_job.state.db import StoreBase

_COLUMNS = "id, shop_id, kind, order_id, message, created_at, resolved_at"


class AttentionTable(StoreBase):
    """The attention table as the engine writes it: one item per (shop, kind, key)."""

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

    def newest_open_attention(self, shop_id: str, kind: str, order_id: str) -> int | None:
        """The id of the order's newest unresolved item of this kind, or None."""
        row = self.db.execute(
            "SELECT id FROM attention WHERE shop_id = ? AND kind = ? AND order_id = ? "
            "AND resolved_at IS NULL ORDER BY id DESC LIMIT 1",
            (shop_id, kind, order_id),
        ).fetchone()
        return None if row is None else int(row[0])

    def open_attention(self, shop_id: str) -> list[dict[str, Any]]:
        """Every unresolved work item of a shop, oldest first."""
        rows = self._all(
            "SELECT id, kind, order_id, message, created_at FROM attention "
            "WHERE shop_id = ? AND resolved_at IS NULL ORDER BY id",
            (shop_id,),
        )
        return [dict(r) for r in rows]


def list_attention(
    store: StoreBase, *, shop_id: str | None = None, include_resolved: bool = False
) -> list[dict[str, Any]]:
    """Attention items (open ones only unless `include_resolved`), oldest first, with ids."""
    sql = f"SELECT {_COLUMNS} FROM attention WHERE 1 = 1"
    params: list[Any] = []
    if shop_id is not None:
        sql += " AND shop_id = ?"
        params.append(shop_id)
    if not include_resolved:
        sql += " AND resolved_at IS NULL"
    cursor = store.db.execute(sql + " ORDER BY id", tuple(params))
    cursor.row_factory = sqlite3.Row
    return [dict(row) for row in cursor.fetchall()]


def resolve_attention_ids(store: StoreBase, ids: Iterable[int]) -> list[int]:
    """Mark these items done (already-done ones stay as they were); return the unknown ids."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    marks = ",".join("?" * len(wanted))
    with store.transaction("resolve attention by id"):
        known = {
            row[0]
            for row in store.db.execute(
                f"SELECT id FROM attention WHERE id IN ({marks})", tuple(wanted)
            ).fetchall()
        }
        store.db.execute(
            f"UPDATE attention SET resolved_at = ? WHERE id IN ({marks}) AND resolved_at IS NULL",
            (store.now(), *wanted),
        )
    return [i for i in wanted if i not in known]


def resolve_attention_kind(
    store: StoreBase, kind: str, before: datetime | None = None, *, shop_id: str | None = None
) -> int:
    """Mark every open item of `kind` (created before `before`, if given) done; return how many."""
    sql = "UPDATE attention SET resolved_at = ? WHERE kind = ? AND resolved_at IS NULL"
    params: list[Any] = [store.now(), kind]
    if before is not None:
        sql += " AND created_at < ?"  # both ISO-8601 UTC to the second: text order is time order
        params.append(before.astimezone(UTC).isoformat(timespec="seconds"))
    if shop_id is not None:
        sql += " AND shop_id = ?"
        params.append(shop_id)
    with store.transaction("resolve attention by kind"):
        cursor = store.db.execute(sql, tuple(params))
    return int(cursor.rowcount)
