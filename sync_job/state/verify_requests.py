"""Verifies asked for on the operator page, waiting for the daemon to run them after a cycle.

The page only writes a request: the verify itself (DealPOS list calls) runs on the daemon's cycle
thread, through the daemon's client, pacer and shared quota, like the daily verify.
"""

from __future__ import annotations

from datetime import date

from sync_job.state.store import Store


def request_verify(store: Store, shop_id: str, day: date, now: float) -> None:
    """Ask for a verify of one shop's day (asking twice is one request)."""
    store.db.execute(
        "INSERT INTO verify_requests VALUES (?, ?, ?) ON CONFLICT (shop_id, day) DO NOTHING",
        (shop_id, day.isoformat(), now),
    )


def pending_verify_requests(store: Store, shop_id: str | None = None) -> list[tuple[str, date]]:
    """The requests not run yet, oldest first: (shop id, day)."""
    sql = "SELECT shop_id, day FROM verify_requests"
    params: tuple[str, ...] = ()
    if shop_id is not None:
        sql, params = sql + " WHERE shop_id = ?", (shop_id,)
    rows = store.db.execute(sql + " ORDER BY requested_at", params).fetchall()
    return [(str(r[0]), date.fromisoformat(r[1])) for r in rows]


def finish_verify_request(store: Store, shop_id: str, day: date) -> None:
    """Forget a request once its verify ran (its result is in verify_runs)."""
    store.db.execute(
        "DELETE FROM verify_requests WHERE shop_id = ? AND day = ?", (shop_id, day.isoformat())
    )
