"""State file size after a simulated year of one busy shop, with and without retention.

The year is simulated straight into the state file through the Store, day by day, the way the
job fills it: a `runs` row per daemon cycle (every 60 s) with its summary counts, and every order
recorded with its full raw TikTok JSON (simulator-shaped) at its final status. With retention on
(the defaults: runs 30 days, raw JSON of finished orders 90 days) it is applied once a day, as
the daemon does. To stay fast the year is simulated at a fraction of the volume (every count
divided by SCALE) and the sizes multiplied back: both tables grow linearly with volume.
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

from bench.report import Line
from sync_job.domain import jsonutil
from sync_job.sandbox.catalogue import CATALOGUE
from sync_job.sandbox.orders import new_order, set_status
from sync_job.state.db import iso_now
from sync_job.state.retention import RetentionPolicy, apply_retention_if_due
from sync_job.state.store import Store

DAY = 86400
START = 1_767_225_600  # 2026-01-01 UTC
ORDERS_PER_DAY = 300  # one busy shop
CYCLES_PER_DAY = 1440  # a daemon cycle every 60 s
# Retained size / unretained size after a year. The policy keeps 90 days of full JSON (a third
# of the year) and a slim copy (~40% of a simulator order's 15 KB) after that: ~0.6 at best.
TARGET_RATIO = 0.65
COUNTS = {"fetched": 12, "returns": 0, "changed": 3, "stale": 0, "created": 1, "sent": 1,
          "paid": 0, "recycled": 0, "adopted": 0, "lookups": 0, "quarantined": 0, "pending": 0,
          "dealpos_calls": 2, "rate_limited": 0, "duration_s": 0.412}  # fmt: skip
_ID = "576400000000000000"


def _iso(seconds: float) -> str:
    return iso_now(lambda: seconds)


def _templates(n: int) -> list[str]:
    """`n` simulator-shaped orders at their final status (9 in 10 completed), as JSON text."""
    rng = random.Random(5)
    out = []
    for i in range(n):
        order, recipient = new_order(rng, _ID, CATALOGUE, START)
        set_status(order, "AWAITING_SHIPMENT", START, recipient)
        set_status(order, "COMPLETED" if i % 10 else "CANCELLED", START + 60, recipient)
        out.append(jsonutil.dumps(order, sort_keys=True))
    return out


def _day(store: Store, day: int, scale: int, templates: list[str]) -> None:
    """One day: its cycles' run rows and its orders, recorded at the day's clock."""
    now = START + day * DAY
    store.clock = lambda: float(now)
    step = 60 * scale
    counts = jsonutil.dumps(COUNTS)
    runs = [(f"r{day}-{c}", "shop1", "realtime", _iso(now + step * c), _iso(now + step * c + 1),
             "ok", counts) for c in range(CYCLES_PER_DAY // scale)]  # fmt: skip
    with store.transaction("fill a simulated year"):
        store.db.conn.executemany(
            "INSERT INTO runs (id, shop_id, mode, started_at, finished_at, status, counts) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            runs,
        )
        for n in range(ORDERS_PER_DAY // scale):
            text = templates[(day * 7 + n) % len(templates)]
            order_id = f"5764{day:04d}{n:010d}"
            status = "CANCELLED" if '"status":"CANCELLED"' in text else "COMPLETED"
            raw = text.replace(_ID, order_id)
            store.record_order("shop1", order_id, status, now, "h", {}, text=raw)


def simulate(path: Path, days: int, scale: int, *, retain: bool) -> int:
    """The state file's size in bytes after `days` days (retention applied daily if `retain`)."""
    store = Store.open(path)
    store.db.execute("PRAGMA synchronous=OFF")  # a throwaway file: durability is not measured
    templates = _templates(100)
    for day in range(days):
        _day(store, day, scale, templates)
        if retain:
            apply_retention_if_due(store, RetentionPolicy())
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    store.close()
    return size


def run(quick: bool) -> list[Line]:
    """State size after a year with retention, against without, at full volume."""
    scale = 100 if quick else 20
    where = "/dev/shm" if os.path.isdir("/dev/shm") else None  # memory-backed: no disk waits
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        kept = simulate(Path(tmp) / "retained.db", 365, scale, retain=True) * scale
        full = simulate(Path(tmp) / "unretained.db", 365, scale, retain=False) * scale
    ratio = kept / full
    return [
        Line(
            "state_size_after_a_year_mb",
            f"{kept / 1e6:.0f}",
            f"target <= {TARGET_RATIO:.0%} of the {full / 1e6:.0f} MB without retention "
            f"(ratio {ratio:.2f}); {ORDERS_PER_DAY} orders/day, a run every 60 s, 365 days, "
            f"retention defaults, simulated at 1/{scale} volume and scaled",
            ratio <= TARGET_RATIO,
        )
    ]
