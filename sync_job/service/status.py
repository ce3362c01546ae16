"""What `sync-job status` shows: per shop cursors, last run, outbox and open attention items."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sync_job.domain.windows import STREAMS
from sync_job.service.config import ShopConfig, WebhookConfig
from sync_job.state.inbox import webhook_health
from sync_job.state.store import Store
from sync_job.state.verifications import last_verify


def _iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def collect_webhook(store: Store, webhook: WebhookConfig) -> dict[str, Any]:
    """Webhook health: on or off, counts, last delivery, backlog and recent lag."""
    health = webhook_health(store.db)
    for key in ("last_received_at", "last_rejected_at"):
        health[key] = _iso(None if health[key] is None else int(health[key]))
    listen = webhook.listen
    return {"listen": None if listen is None else f"{listen}{webhook.path}", **health}


def collect_status(
    store: Store, shops: Sequence[ShopConfig], webhook: WebhookConfig | None = None
) -> dict[str, Any]:
    """The `status --json` object of the interface spec (no secrets in it, by construction).

    Beyond the spec's `shops`, a `webhook` object tells how TikTok's pushes are doing.
    """
    out = []
    for shop in shops:
        out.append(
            {
                "id": shop.id,
                "cursors": {s: _iso(store.get_cursor(shop.id, s)) for s in STREAMS},
                "last_run": store.last_run(shop.id) or {},
                "outbox": store.outbox_counts(shop.id),
                "attention": store.open_attention(shop.id),
                "last_verify": _last_verify(store, shop.id),
            }
        )
    return {"shops": out, "webhook": collect_webhook(store, webhook or WebhookConfig())}


def _last_verify(store: Store, shop_id: str) -> dict[str, Any] | None:
    """The newest verify of the shop; None before the first (or in a file from before verify)."""
    try:
        record = last_verify(store, shop_id)
    except sqlite3.OperationalError:  # a read-only file older than the verify_runs table
        return None
    return None if record is None else record.as_dict()


def _verify_line(verify: dict[str, Any] | None) -> str:
    if not verify:
        return "  last verify: none yet (sync-job verify)"
    found = ", ".join(f"{k} {n}" for k, n in verify["findings"].items()) or "no findings"
    text = (
        f"  last verify: {verify['trigger']} {verify['status']} at {verify['finished_at']}, "
        f"{verify['from']} to {verify['to']}: {verify['orders']} orders, "
        f"{verify['invoices']} invoices, {found} ({verify['dealpos_calls']} DealPOS calls)"
    )
    if verify.get("error"):
        text += f"\n    error: {verify['error']}"
    return text


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


def _webhook_lines(hook: dict[str, Any], now: float) -> list[str]:
    if hook["listen"] is None and not hook["received"] + hook["rejected"]:
        return ["webhook: off ([webhook] listen is not set; polling alone)"]
    where = hook["listen"] or "off now"
    lag = "none yet" if hook["lag_seconds"] is None else f"{hook['lag_seconds']:.1f}s"
    return [
        f"webhook: {where}, last received {_age(hook['last_received_at'], now)}",
        f"  {hook['received']} received, {hook['duplicate']} duplicate, {hook['rejected']} "
        f"rejected, {hook['unknown_shop']} unknown shop; {hook['pending']} waiting; "
        f"lag to DealPOS (median) {lag}",
    ]


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
        lines.append(_verify_line(shop.get("last_verify")))
        lines.append(f"  attention: {len(shop['attention'])} open")
        for item in shop["attention"]:
            lines.append(
                f"    #{item['id']} [{item['kind']}] {item['message']} (since {item['created_at']})"
            )
    if "webhook" in status:
        lines.extend(_webhook_lines(status["webhook"], now()))
    return "\n".join(lines)
