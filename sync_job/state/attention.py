"""Attention items as a person works through them: list with ids, mark done by id or by kind.

The `sync-job attention` command and the operator page call these same functions, so "done" means
the same thing wherever it is clicked or typed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sync_job.state.store import Store

_COLUMNS = "id, shop_id, kind, order_id, message, created_at, resolved_at"


def list_attention(
    store: Store, *, shop_id: str | None = None, include_resolved: bool = False
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


def resolve_attention_ids(store: Store, ids: Iterable[int]) -> list[int]:
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
    store: Store, kind: str, before: datetime | None = None, *, shop_id: str | None = None
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
