"""Figure 5, scaling with history: a no-change `once` over a small and a huge snapshot.

Both state databases first record the same recent orders through a real `once`; then old orders
(realistic raw JSON, a ledger row each) are written straight into SQLite with the store's schema
until the snapshot holds the wanted total. The measured runs re-read the recent orders (the overlap)
and find nothing changed: no DealPOS call, no write but the run record and the cursors.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import harness
from bench.report import Line, median, ratio
from sync_job.domain import jsonutil
from sync_job.sandbox.tiktok_sim import TikTokSimulator
from sync_job.service.config import Config
from sync_job.state.db import iso_now

TARGET = 1.2
RECENT = 300  # orders in the window each run re-reads (3 pages)
REPEATS = 9
OLD = 400 * 86400  # history is this much older than now


def _history_rows(template: dict[str, Any], text: str, count: int, now: int) -> Iterator[Any]:
    """Orders rows: the template's raw JSON under fresh ids, updated long ago."""
    stamp = iso_now(lambda: now)
    for n in range(count):
        oid = f"58{n:016d}"
        yield (
            harness.SHOP,
            oid,
            "COMPLETED",
            now - OLD + n % 86400,
            f"{n:032x}",
            text.replace(template["id"], oid),
            stamp,
        )


def _ledger_rows(count: int, now: int) -> Iterator[Any]:
    """Ledger rows of the old orders: invoiced, sent and paid."""
    stamp = iso_now(lambda: now)
    for n in range(count):
        oid = f"58{n:016d}"
        yield (
            harness.SHOP,
            oid,
            f"TT{oid}",
            f"inv-{n}",
            "active",
            "Sent",
            "Paid",
            '{"KAOS-HITAM-M":1}',
            stamp,
        )


def add_history(db: Path, template: dict[str, Any], count: int) -> None:
    """Write `count` old orders and their ledger rows directly, in one transaction."""
    now = int(time.time())
    text = jsonutil.dumps(template)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")  # a benchmark fixture: durability does not matter
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)",
            _history_rows(template, text, count, now),
        )
        conn.executemany(
            "INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _ledger_rows(count, now)
        )
        conn.execute("COMMIT")
    finally:
        conn.close()


def _prepare(tiktok: TikTokSimulator, folder: Path, total: int) -> tuple[Config, Any]:
    """A state database holding the recent orders (recorded by a real run) plus old ones."""
    dealpos = harness.start_dealpos()
    db = folder / f"sync-{total}.db"
    config = harness.make_config(harness.settings(tiktok, dealpos, db))
    harness.run_once(config)
    add_history(db, tiktok.orders(harness.SHOP)[0], total - RECENT)
    harness.run_once(config)  # warm-up: the file is in the page cache for both sizes alike
    return config, dealpos


def _time_once(config: Config) -> float:
    started = time.perf_counter()
    counts = harness.run_once(config)
    elapsed = time.perf_counter() - started
    if counts["changed"] or counts["dealpos_calls"]:
        raise RuntimeError(f"a no-change run changed something: {counts}")
    return elapsed


def run(quick: bool) -> list[Line]:
    """Median no-change `once` time with the large snapshot ÷ with the small one."""
    harness.quiet_logs()
    small, large = (1_000, 10_000) if quick else (10_000, 1_000_000)
    tiktok = harness.start_tiktok()
    now = int(time.time())
    harness.add_paid_orders(tiktok, RECENT, now - 3600, now - 600)
    times: dict[int, list[float]] = {small: [], large: []}
    with harness.running(tiktok), tempfile.TemporaryDirectory() as tmp:
        built = time.monotonic()
        rigs = {n: _prepare(tiktok, Path(tmp), n) for n in (small, large)}
        built = time.monotonic() - built
        sizes = {n: Path(c.state.path).stat().st_size for n, (c, _) in rigs.items()}
        for _ in range(REPEATS):
            for n, (config, _) in rigs.items():
                times[n].append(_time_once(config))
        for _, dealpos in rigs.values():
            dealpos.stop()
    value = median(times[large]) / median(times[small])
    return [
        Line(
            "history_scaling",
            ratio(value),
            f"target <= {TARGET}; no-change once, {large:,} ÷ {small:,} orders in the snapshot",
            value <= TARGET,
        ),
        *(_detail(n, times[n], sizes[n]) for n in (small, large)),
        Line("history_build_seconds", f"{built:.0f}", "building both databases (not measured)"),
    ]


def _detail(orders: int, times: list[float], size: int) -> Line:
    spread = statistics.pstdev(times) * 1000
    return Line(
        f"history_once_ms_{orders}",
        f"{median(times) * 1000:.1f}",
        f"median of {len(times)}, sd {spread:.1f} ms; database {size / 2**20:,.0f} MiB",
    )
