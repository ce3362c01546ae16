"""The verify_runs table: each shop's verify results, for `status`, metrics and the daily verify."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from sync_job.domain import jsonutil
from sync_job.state.store import Store


@dataclass(frozen=True)
class VerifyRecord:
    """One finished verify of one shop, as stored."""

    shop_id: str
    trigger: str  # "command" (sync-job verify) or "daily" (the daemon)
    first_day: str
    last_day: str
    started_at: str
    finished_at: str
    status: str  # "ok" (compared) or "failed" (could not compare: the error says why)
    orders: int = 0
    invoices: int = 0
    findings: dict[str, int] = field(default_factory=dict)  # kind -> count
    dealpos_calls: int = 0
    repaired: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (what `status --json` shows)."""
        return {
            "trigger": self.trigger,
            "from": self.first_day,
            "to": self.last_day,
            "finished_at": self.finished_at,
            "status": self.status,
            "orders": self.orders,
            "invoices": self.invoices,
            "findings": dict(self.findings),
            "dealpos_calls": self.dealpos_calls,
            "repaired": self.repaired,
            "error": self.error,
        }


def record_verify(store: Store, record: VerifyRecord) -> None:
    """Store one verify result."""
    with store.transaction("record a verify"):
        store.db.execute(
            "INSERT INTO verify_runs (shop_id, trigger, first_day, last_day, started_at, "
            "finished_at, status, orders, invoices, findings, dealpos_calls, repaired, error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.shop_id,
                record.trigger,
                record.first_day,
                record.last_day,
                record.started_at,
                record.finished_at,
                record.status,
                record.orders,
                record.invoices,
                jsonutil.dumps(record.findings),
                record.dealpos_calls,
                record.repaired,
                record.error,
            ),
        )


def _record(row: sqlite3.Row) -> VerifyRecord:
    return VerifyRecord(
        shop_id=row["shop_id"],
        trigger=row["trigger"],
        first_day=row["first_day"],
        last_day=row["last_day"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        status=row["status"],
        orders=row["orders"],
        invoices=row["invoices"],
        findings={str(k): int(v) for k, v in jsonutil.loads(row["findings"]).items()},
        dealpos_calls=row["dealpos_calls"],
        repaired=row["repaired"],
        error=row["error"],
    )


def last_verify(store: Store, shop_id: str, trigger: str | None = None) -> VerifyRecord | None:
    """The newest verify of a shop (of one trigger, when given), or None."""
    sql = "SELECT * FROM verify_runs WHERE shop_id = ?"
    params: tuple[Any, ...] = (shop_id,)
    if trigger is not None:
        sql += " AND trigger = ?"
        params += (trigger,)
    cursor = store.db.execute(sql + " ORDER BY id DESC LIMIT 1", params)
    cursor.row_factory = sqlite3.Row
    row = cursor.fetchone()
    return None if row is None else _record(row)


def verified_day(store: Store, shop_id: str, day: str, trigger: str) -> bool:
    """True when a verify of this trigger already covered exactly `day` for the shop."""
    row = store.db.execute(
        "SELECT 1 FROM verify_runs WHERE shop_id = ? AND trigger = ? AND first_day = ? "
        "AND last_day = ? LIMIT 1",
        (shop_id, trigger, day, day),
    ).fetchone()
    return row is not None


def open_verify_items(store: Store, shop_id: str) -> list[tuple[str, str]]:
    """(kind, key) of the shop's open attention items that a verify raised."""
    rows = store.db.execute(
        "SELECT kind, key FROM attention WHERE shop_id = ? AND resolved_at IS NULL "
        "AND kind LIKE 'verify\\_%' ESCAPE '\\'",
        (shop_id,),
    ).fetchall()
    return [(str(kind), str(key)) for kind, key in rows]
