"""Figure 6, memory: peak RSS of the `sync-job backfill` command over many orders.

The simulators (holding every order) live in this process; the measured command runs in a
subprocess, and its peak RSS is read from its own rusage when it is reaped. DealPOS's limit is off,
so the run takes as long as the HTTP round trips and the engine's work.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench import harness
from bench.report import Line
from sync_job.sandbox.tiktok_sim import TikTokSimulator

TARGET_MB = 150
DAYS = 10
# A backfill over finished history: mostly completed, some still moving, some cancelled.
STATUSES = ("COMPLETED", "DELIVERED", "IN_TRANSIT", "AWAITING_SHIPMENT", "CANCELLED")
WEIGHTS = (0.6, 0.1, 0.1, 0.1, 0.1)


def add_history(tiktok: TikTokSimulator, count: int, now: int) -> int:
    """Put `count` orders over the last DAYS days; return how many need an invoice."""
    gen = harness.generator(tiktok, time.time, seed=count)
    rng = random.Random(count)
    first = now - DAYS * 86400
    step = (DAYS * 86400 - 3600) / count
    invoiced = 0
    for n in range(count):
        status = rng.choices(STATUSES, WEIGHTS)[0]
        gen.new_order(status=status, update_time=int(first + n * step))
        invoiced += status != "CANCELLED"
    return invoiced


def _backfill(orders: int) -> tuple[harness.CommandRun, int, int, float]:
    """Run the command; return its run, invoices wanted and made, and the set-up seconds."""
    started = time.monotonic()
    tiktok = harness.start_tiktok()
    dealpos = harness.start_dealpos()
    now = int(time.time())
    wanted = add_history(tiktok, orders, now)
    setup = time.monotonic() - started
    with harness.running(tiktok, dealpos), tempfile.TemporaryDirectory() as tmp:
        data = harness.settings(tiktok, dealpos, Path(tmp) / "sync.db")
        config_path = Path(tmp) / "config.toml"
        config_path.write_text(harness.toml_text(data))
        tz = harness.make_config(data).sync.tz
        first = datetime.fromtimestamp(now - (DAYS + 1) * 86400, tz).strftime("%Y-%m-%d")
        run = harness.run_command(
            config_path, "backfill", "--from", first, stderr=Path(tmp) / "stderr.log"
        )
        if run.code != 0:
            raise RuntimeError(f"backfill exited {run.code}: {run.stderr.read_text()[-2000:]}")
        made = len(dealpos.invoices())
    return run, wanted, made, setup


def run(quick: bool) -> list[Line]:
    """Peak RSS of the backfill subprocess, with its run time."""
    orders = 2_000 if quick else 100_000
    command, wanted, made, setup = _backfill(orders)
    return [
        Line(
            "backfill_peak_rss_mb",
            f"{command.peak_rss_mb:.0f}",
            f"target <= {TARGET_MB}; sync-job backfill over {orders:,} orders, {DAYS} days",
            command.peak_rss_mb <= TARGET_MB,
        ),
        Line(
            "backfill_seconds",
            f"{command.seconds:.0f}",
            f"{made:,} invoices created of {wanted:,} wanted; "
            f"{command.seconds / max(made, 1) * 1000:.1f} ms each",
        ),
        Line("backfill_setup_seconds", f"{setup:.0f}", "generating the orders in the simulator"),
    ]
