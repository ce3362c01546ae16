"""Three processes on one DealPOS tenant: a daemon, a backfill and a `once`, one state file.

Each process pushes its own shop (one configuration per process, the same state file and the
same DealPOS tenant, limited to 20 calls / 2 s by the simulator). Paced each on its own, they
would together send three times the quota; sharing the call log in the state file, they must
keep 429s near zero and together still use the quota: achieved calls/s ÷ allowed, from the
first call to the last, as in the `quota` figure.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bench import harness
from bench.report import Line, ratio
from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.sandbox.tiktok_sim import TikTokSimulator

LIMIT, WINDOW = 20, 2.0
TARGET_USE, TARGET_429 = 0.90, 0.01
ROLES = {  # role: (shop id, cipher, command)
    "daemon": ("7495000000000000201", "GCP_shared_a", ("run",)),
    "backfill": ("7495000000000000202", "GCP_shared_b", ("backfill", "--from", "YESTERDAY")),
    "once": ("7495000000000000203", "GCP_shared_c", ("once",)),
}


@dataclass(frozen=True)
class SharedRun:
    """What DealPOS saw while the three processes pushed."""

    calls: int
    limited: int
    span: float
    codes: dict[str, int]

    @property
    def use(self) -> float:
        """Achieved calls/s over allowed calls/s."""
        return (self.calls - 1) / self.span / (LIMIT / WINDOW)

    @property
    def share_429(self) -> float:
        """The share of calls answered 429."""
        return self.limited / self.calls


def _config(tiktok: TikTokSimulator, dealpos: harness.TimedDealpos, db: Path, role: str) -> str:
    shop_id, cipher, _ = ROLES[role]
    data = harness.settings(tiktok, dealpos, db, dealpos__rate_limit=LIMIT,
                            dealpos__rate_window_seconds=WINDOW)  # fmt: skip
    data["tiktok"]["shops"] = [{"id": shop_id, "cipher": cipher, "outlet": "Online Store"}]
    data["schedule"] = {"interval_seconds": 2, "jitter_seconds": 0}
    data["sync"] = {"lag_seconds": 0}
    return harness.toml_text(data)


def _start(root: Path, role: str, text: str) -> subprocess.Popen[bytes]:
    path = root / f"{role}.toml"
    path.write_text(text)
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    args = [a.replace("YESTERDAY", yesterday) for a in ROLES[role][2]]
    return subprocess.Popen(
        [sys.executable, "-m", "sync_job", "--config", str(path), *args],
        stdout=subprocess.DEVNULL,
        stderr=(root / f"{role}.log").open("wb"),
        cwd=harness.ROOT,
        env=dict(os.environ),
    )


def measure(orders_per_shop: int, timeout: float = 300) -> SharedRun:
    """Run the three processes over `orders_per_shop` new paid orders each; what DealPOS saw."""
    options = harness.tiktok_options(time.time)
    options["shops"] = [(shop, cipher) for shop, cipher, _ in ROLES.values()]
    tiktok = TikTokSimulator(**options)
    tiktok.start()
    dealpos = harness.start_dealpos(limit=LIMIT, window=WINDOW)
    for seed, (shop, _, _) in enumerate(ROLES.values()):
        gen = LifecycleGenerator(tiktok, shop, seed=seed, unknown_sku_share=0.0)
        for _ in range(orders_per_shop):
            gen.new_order(status="AWAITING_SHIPMENT", update_time=int(time.time()) - 600)
    with harness.running(tiktok, dealpos), tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        procs = {r: _start(root, r, _config(tiktok, dealpos, root / "sync.db", r)) for r in ROLES}
        codes = {r: procs[r].wait(timeout) for r in ("backfill", "once")}
        deadline = time.monotonic() + timeout
        while len(dealpos.invoices()) < 3 * orders_per_shop and time.monotonic() < deadline:
            time.sleep(0.1)
        procs["daemon"].send_signal(signal.SIGTERM)
        codes["daemon"] = procs["daemon"].wait(60)
    arrivals = dealpos.arrivals
    return SharedRun(
        len(arrivals), dealpos.calls.count(outcome="429"), arrivals[-1] - arrivals[0], codes
    )


def run(quick: bool) -> list[Line]:
    """Combined quota use and the share of 429s of three processes on one tenant."""
    orders = 20 if quick else 80
    got = measure(orders)
    if any(got.codes.values()):
        raise RuntimeError(f"a process failed: exit codes {got.codes}")
    return [
        Line(
            "shared_quota_use",
            ratio(got.use),
            f"target >= {TARGET_USE}; daemon + backfill + once, {got.calls} calls in "
            f"{got.span:.1f} s under {LIMIT} calls / {WINDOW:g} s",
            got.use >= TARGET_USE,
        ),
        Line(
            "shared_quota_429_share",
            f"{got.share_429:.2%}",
            f"target <= {TARGET_429:.0%}; {got.limited} of {got.calls} calls",
            got.share_429 <= TARGET_429,
        ),
    ]
