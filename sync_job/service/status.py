"""What `sync-job status` shows: per shop cursors, last run, outbox and open attention items."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sync_job.engine.cycle import STREAMS
from sync_job.service.config import ShopConfig
from sync_job.state.store import Store


def _iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def collect_status(store: Store, shops: Sequence[ShopConfig]) -> dict[str, Any]:
    """The `status --json` object of the interface spec (no secrets in it, by construction)."""
    out = []
    for shop in shops:
        out.append(
            {
                "id": shop.id,
                "cursors": {s: _iso(store.get_cursor(shop.id, s)) for s in STREAMS},
                "last_run": store.last_run(shop.id) or {},
                "outbox": store.outbox_counts(shop.id),
                "attention": store.open_attention(shop.id),
            }
        )
    return {"shops": out}


def _age(iso: str | None, now: float) -> str:
    if iso is None:
        return "never"
    seconds = int(now - datetime.fromisoformat(iso).timestamp())
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    return f"{seconds // 3600}h ago"


def _run_line(run: dict[str, Any]) -> str:
    if not run:
        return "  last run: none yet"
    counts = run.get("counts") or {}
    shown = ", ".join(f"{k} {v}" for k, v in counts.items())
    text = f"  last run: {run['mode']} {run['status']} at {run['started_at']} ({shown})"
    if run.get("error"):
        text += f"\n    error: {run['error']}"
    return text


def render_status(status: dict[str, Any], now: Callable[[], float] = time.time) -> str:
    """A readable, per-shop text form of the status object."""
    lines = []
    for shop in status["shops"]:
        cur = shop["cursors"]
        box = shop["outbox"]
        lines.append(f"shop {shop['id']}")
        lines.append(
            "  cursors: "
            + ", ".join(f"{s} {cur[s] or 'none'} ({_age(cur[s], now())})" for s in STREAMS)
        )
        lines.append(_run_line(shop["last_run"]))
        lines.append(
            f"  outbox: {box['pending']} pending, {box['in_flight']} in flight, "
            f"{box['quarantined']} quarantined"
        )
        lines.append(f"  attention: {len(shop['attention'])} open")
        for item in shop["attention"]:
            lines.append(
                f"    #{item['id']} [{item['kind']}] {item['message']} (since {item['created_at']})"
            )
    return "\n".join(lines)
