"""What the operator page reads from the state database, through its own read-only connection.

Every list is one page of a bounded query (LIMIT/OFFSET over an index), so the page costs the same
with 100 or 100,000 invoices, and a read never takes a write lock the daemon's cycle could wait on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sync_job.domain import jsonutil

__all__ = [
    "INVOICE_STATES",
    "NOT_AVAILABLE",
    "Page",
    "connect_readonly",
    "has_table",
]

# The DealPOS states an invoice can be in, as the page names (and filters) them.
INVOICE_STATES = ("Unsent+Unpaid", "Sent+Unpaid", "Unsent+Paid", "Sent+Paid", "recycled")
NOT_AVAILABLE = "not available"
# How long one DealPOS-calling run may have started before the quota window (to count its calls).
_RUN_LOOKBACK_SECONDS = 3600


def connect_readonly(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to the state file, or None until a run has created its tables."""
    if not path.exists():
        return None
    uri = f"{path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=5, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA query_only = ON")
    if not has_table(conn, "ledger"):  # the first run is creating the file right now
        conn.close()
        return None
    return conn


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    """True when the state file has this table (features of newer versions may be missing)."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def iso(ts: float) -> str:
    """Unix seconds as the state file's ISO-8601 UTC text."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, and whether older rows follow."""

    rows: list[dict[str, Any]]
    number: int
    more: bool


def _page(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any], number: int, size: int
) -> Page:
    """Run `sql` for page `number` (1-based), fetching one row more to know if another follows."""
    rows = conn.execute(f"{sql} LIMIT ? OFFSET ?", (*params, size + 1, (number - 1) * size))
    found = [dict(r) for r in rows.fetchall()]
    return Page(found[:size], number, len(found) > size)


# -- health ----------------------------------------------------------------------------------------


def last_run(conn: sqlite3.Connection, shop_id: str) -> dict[str, Any] | None:
    """The newest run of a shop, with its DealPOS call count."""
    row = conn.execute(
        "SELECT mode, status, started_at, finished_at, error, "
        "json_extract(counts, '$.dealpos_calls') AS calls FROM runs WHERE shop_id = ? "
        "ORDER BY started_at DESC, rowid DESC LIMIT 1",
        (shop_id,),
    ).fetchone()
    return None if row is None else dict(row)


def cursors(conn: sqlite3.Connection, shop_id: str) -> dict[str, int]:
    """Each stream's cursor (Unix seconds)."""
    rows = conn.execute("SELECT stream, position FROM cursors WHERE shop_id = ?", (shop_id,))
    return {r["stream"]: int(r["position"]) for r in rows.fetchall()}


def calls_since(conn: sqlite3.Connection, since: float) -> int:
    """DealPOS calls of every shop's runs (the quota is the tenant's) that ended since `since`."""
    row = conn.execute(
        "SELECT COALESCE(SUM(json_extract(counts, '$.dealpos_calls')), 0) FROM runs "
        "WHERE started_at >= ? AND finished_at >= ?",
        (iso(since - _RUN_LOOKBACK_SECONDS), iso(since)),
    ).fetchone()
    return int(row[0] or 0)


@dataclass(frozen=True)
class Quota:
    """DealPOS calls in the current window and any hold DealPOS imposed (Unix seconds)."""

    used: int
    held_until: float | None = None


def quota_used(conn: sqlite3.Connection, tenant: str, now: float, window: float) -> Quota:
    """The tenant's calls within the last `window` seconds, as every process paces by them.

    Reads the shared call log (quota_calls) when the state file has it: calls completed in the
    window plus those in flight; older state files fall back to the runs' call counts.
    """
    if not has_table(conn, "quota_calls"):
        return Quota(calls_since(conn, now - window))
    used = conn.execute(
        "SELECT COUNT(*) FROM quota_calls WHERE tenant = ? AND (done = 0 OR at > ?)",
        (tenant, now - window),
    ).fetchone()[0]
    hold = conn.execute("SELECT until FROM quota_holds WHERE tenant = ?", (tenant,)).fetchone()
    until = None if hold is None or float(hold[0]) <= now else float(hold[0])
    return Quota(int(used), until)


def last_webhook(conn: sqlite3.Connection, shop_id: str) -> float | str | None:
    """When this shop's newest webhook arrived (Unix seconds); NOT_AVAILABLE without an inbox."""
    if not has_table(conn, "webhook_inbox"):
        return NOT_AVAILABLE
    row = conn.execute(
        "SELECT MAX(received_at) FROM webhook_inbox WHERE shop_id = ?", (shop_id,)
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def last_verify(conn: sqlite3.Connection, shop_id: str) -> dict[str, Any] | str | None:
    """The newest verify of this shop (findings summed), NOT_AVAILABLE before verify existed."""
    if not has_table(conn, "verify_runs"):
        return NOT_AVAILABLE
    row = conn.execute(
        "SELECT trigger, first_day, last_day, finished_at, status, findings, error "
        "FROM verify_runs WHERE shop_id = ? ORDER BY id DESC LIMIT 1",
        (shop_id,),
    ).fetchone()
    if row is None:
        return None
    found = dict(row)
    found["findings"] = sum(int(n) for n in jsonutil.loads(row["findings"] or "{}").values())
    return found


def verify_requested(conn: sqlite3.Connection, shop_id: str) -> str | None:
    """The day of a verify asked for on the page and not run yet, if any."""
    if not has_table(conn, "verify_requests"):
        return None
    row = conn.execute(
        "SELECT MIN(day) FROM verify_requests WHERE shop_id = ?", (shop_id,)
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def attention_shop(conn: sqlite3.Connection, item_id: int) -> str | None:
    """The shop an attention item belongs to, or None when there is no such item."""
    row = conn.execute("SELECT shop_id FROM attention WHERE id = ?", (item_id,)).fetchone()
    return None if row is None else str(row[0])


# -- lists -----------------------------------------------------------------------------------------


def attention_counts(conn: sqlite3.Connection, shop_id: str) -> dict[str, int]:
    """Open work items per kind."""
    rows = conn.execute(
        "SELECT kind, COUNT(*) AS n FROM attention WHERE shop_id = ? AND resolved_at IS NULL "
        "GROUP BY kind ORDER BY kind",
        (shop_id,),
    )
    return {r["kind"]: int(r["n"]) for r in rows.fetchall()}


def attention(
    conn: sqlite3.Connection,
    shop_id: str,
    *,
    kind: str | None,
    resolved: bool,
    page: int,
    size: int,
) -> Page:
    """One page of open (or resolved) work items, newest first."""
    sql = (
        "SELECT id, kind, order_id, message, created_at, resolved_at FROM attention "
        f"WHERE shop_id = ? AND resolved_at IS {'NOT ' if resolved else ''}NULL"
    )
    params: list[Any] = [shop_id]
    if kind is not None:
        sql += " AND kind = ?"
        params.append(kind)
    return _page(conn, sql + " ORDER BY id DESC", params, page, size)


def quarantined(conn: sqlite3.Connection, shop_id: str, *, page: int, size: int) -> Page:
    """One page of orders with quarantined actions: the refused action's error first."""
    # A bare column next to MIN() takes its value from the row holding the minimum (SQLite).
    sql = (
        "SELECT order_id, MIN(id) AS first_id, last_error, updated_at, attempts, "
        "GROUP_CONCAT(action, ' + ') AS actions FROM outbox "
        "WHERE shop_id = ? AND state = 'quarantined' GROUP BY order_id ORDER BY first_id DESC"
    )
    return _page(conn, sql, (shop_id,), page, size)


def quarantined_count(conn: sqlite3.Connection, shop_id: str) -> int:
    """How many orders have quarantined actions."""
    row = conn.execute(
        "SELECT COUNT(DISTINCT order_id) FROM outbox WHERE shop_id = ? AND state = 'quarantined'",
        (shop_id,),
    ).fetchone()
    return int(row[0])


def invoice_counts(conn: sqlite3.Connection, shop_id: str) -> dict[str, int]:
    """Invoices per DealPOS state (the ledger's view), in INVOICE_STATES order."""
    counts = dict.fromkeys(INVOICE_STATES, 0)
    rows = conn.execute(
        "SELECT record, fulfillment, payment, COUNT(*) AS n FROM ledger WHERE shop_id = ? "
        "GROUP BY record, fulfillment, payment",
        (shop_id,),
    )
    for r in rows.fetchall():
        name = f"{r['fulfillment']}+{r['payment']}" if r["record"] == "active" else r["record"]
        counts[name] = counts.get(name, 0) + int(r["n"])
    return counts


# The page of ledger keys comes from an index range alone; only its rows join the snapshot.
_INVOICE_SQL = (
    "WITH page AS (SELECT l.shop_id, l.order_id FROM ledger l {join} WHERE l.shop_id = ? {where} "
    "ORDER BY l.updated_at DESC, l.order_id DESC LIMIT ? OFFSET ?) "
    "SELECT l.order_id, l.number, l.record, l.fulfillment, l.payment, l.updated_at, "
    "o.status AS tiktok_status, json_extract(o.raw, '$.payment.total_amount') AS total, "
    "json_extract(o.raw, '$.payment.currency') AS currency, "
    "json_extract(o.raw, '$.line_items[0].product_name') AS first_item, "
    "json_array_length(o.raw, '$.line_items') AS item_count "
    "FROM page JOIN ledger l USING (shop_id, order_id) "
    "LEFT JOIN orders o ON o.shop_id = l.shop_id AND o.order_id = l.order_id "
    "ORDER BY l.updated_at DESC, l.order_id DESC"
)


def invoices(
    conn: sqlite3.Connection,
    shop_id: str,
    *,
    state: str | None,
    status: str | None,
    search: str | None,
    page: int,
    size: int,
) -> Page:
    """One page of invoices, most recently changed first, with the order's TikTok status."""
    where, params = "", [shop_id]
    if state == "recycled":
        where += " AND l.record = 'recycled'"
    elif state is not None:
        fulfillment, payment = state.split("+")
        where += " AND l.record = 'active' AND l.fulfillment = ? AND l.payment = ?"
        params += [fulfillment, payment]
    join = ""
    if status is not None:
        # CROSS JOIN keeps the ledger index outermost: newest first, stop after one page.
        join = "CROSS JOIN orders f ON f.shop_id = l.shop_id AND f.order_id = l.order_id"
        where += " AND f.status = ?"
        params.append(status)
    if search is not None:
        where += " AND (l.order_id = ? OR l.number = ?)"
        params += [search, search]
    sql = _INVOICE_SQL.format(join=join, where=where)
    rows = conn.execute(sql, (*params, size + 1, (page - 1) * size)).fetchall()
    found = [dict(r) for r in rows]
    return Page(found[:size], page, len(found) > size)


# -- chart -----------------------------------------------------------------------------------------


def activity_per_hour(
    conn: sqlite3.Connection, shop_id: str, since: int
) -> tuple[dict[int, int], dict[int, int]]:
    """DealPOS calls and changed orders per hour (Unix seconds // 3600) from this shop's runs.

    The runs table holds one row per cycle with its counts, so 48 hours are ~3,000 small rows
    whatever the size of the order snapshot.
    """
    rows = conn.execute(
        "SELECT substr(started_at, 1, 13) AS hour, "
        "SUM(json_extract(counts, '$.dealpos_calls')) AS calls, "
        "SUM(json_extract(counts, '$.changed')) AS changed FROM runs "
        "WHERE shop_id = ? AND started_at >= ? GROUP BY hour",
        (shop_id, iso(since)),
    )
    calls: dict[int, int] = {}
    orders: dict[int, int] = {}
    for r in rows.fetchall():
        hour = int(datetime.fromisoformat(f"{r['hour']}:00:00+00:00").timestamp()) // 3600
        calls[hour], orders[hour] = int(r["calls"] or 0), int(r["changed"] or 0)
    return calls, orders
