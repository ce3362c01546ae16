"""Figure 2, quota use: a backfill that needs many DealPOS calls under a 20 calls / 2 s limit.

The simulator enforces the limit (a fixed window counted across all endpoints, as DealPOS does)
and the configuration tells the client the same limit. The simulator notes when each call
arrives; the achieved rate is (calls − 1) ÷ (last arrival − first arrival), so a client that
fills every window to the brim and starts the next one the instant it opens scores 1.00.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench import harness
from bench.report import Line, ratio
from sync_job.service.app import App

LIMIT, WINDOW = 20, 2.0
TARGET_USE, TARGET_429 = 0.90, 0.01


def _backfill(orders: int) -> harness.TimedDealpos:
    """Run one in-process backfill over `orders` new paid orders; return the DealPOS simulator."""
    tiktok = harness.start_tiktok()
    dealpos = harness.start_dealpos(limit=LIMIT, window=WINDOW)
    now = int(time.time())
    harness.add_paid_orders(tiktok, orders, now - 6 * 3600, now - 3600)
    with harness.running(tiktok, dealpos), tempfile.TemporaryDirectory() as tmp:
        data = harness.settings(
            tiktok,
            dealpos,
            Path(tmp) / "sync.db",
            dealpos__rate_limit=LIMIT,
            dealpos__rate_window_seconds=WINDOW,
        )
        config = harness.make_config(data)
        first = datetime.fromtimestamp(now - 86400, config.sync.tz).date()
        app = App.open(config)
        try:
            (result,) = app.run_backfill(first, None, None)
        finally:
            app.close()
    if result.counts.get("created") != orders:
        raise RuntimeError(f"backfill ended {result.status}: {result.counts}")
    return dealpos


def run(quick: bool) -> list[Line]:
    """Achieved calls/s ÷ allowed, and the share of 429 answers."""
    harness.quiet_logs()
    orders = 60 if quick else 240  # plus one token call: 61 / 241 calls
    dealpos = _backfill(orders)
    arrivals = dealpos.arrivals
    span = arrivals[-1] - arrivals[0]
    use = (len(arrivals) - 1) / span / (LIMIT / WINDOW)
    limited = dealpos.calls.count(outcome="429")
    share = limited / len(arrivals)
    return [
        Line(
            "quota_use",
            ratio(use),
            f"target >= {TARGET_USE}; {len(arrivals)} calls in {span:.1f} s "
            f"under {LIMIT} calls / {WINDOW:g} s",
            use >= TARGET_USE,
        ),
        Line(
            "quota_429_share",
            f"{share:.2%}",
            f"target <= {TARGET_429:.0%}; {limited} of {len(arrivals)} calls",
            share <= TARGET_429,
        ),
        Line(
            "quota_ideal_seconds",
            f"{(len(arrivals) - 1) // LIMIT * WINDOW:.1f}",
            "first to last call for a perfect client",
        ),
    ]
