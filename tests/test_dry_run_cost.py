"""`once --dry-run` costs about what a real run costs: it no longer copies the state file into
memory, and it still changes nothing (the file's content is the same afterwards)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.state.store import Store
from tests.e2e.conftest import SECRETS, SHOP, Sandbox, past_clock, running_sandbox

pytestmark = pytest.mark.e2e

FILLER_ROWS = 20_000
FILLER_BYTES = 4000  # 80 MB of old orders in the state file


def fill_state(path: Path) -> None:
    """Put 80 MB of recorded orders (another, finished shop) into the state file."""
    store = Store.open(path)
    raw = '{"pad": "' + "x" * FILLER_BYTES + '"}'
    with store.transaction("fill the state"):
        store.db.conn.executemany(
            "INSERT INTO orders (shop_id, order_id, status, update_time, content_hash, raw, "
            "recorded_at) VALUES ('old-shop', ?, 'COMPLETED', 0, 'h', ?, '2025-01-01')",
            ((str(n), raw) for n in range(FILLER_ROWS)),
        )
    store.close()


def content_digest(path: Path) -> str:
    """A digest of every row but the TikTok token pair, which even a dry run may save."""
    conn = sqlite3.connect(path)
    try:
        rows = [r for r in conn.iterdump() if not r.startswith('INSERT INTO "tokens"')]
        return hashlib.sha256("\n".join(rows).encode()).hexdigest()
    finally:
        conn.close()


# Runs the command in-process and reports its own VmHWM (peak RSS of this image, unlike
# ru_maxrss, which counts the forked test process from before the exec).
_MEASURED = """
import atexit, runpy, sys
def peak():
    for row in open("/proc/self/status"):
        if row.startswith("VmHWM:"):
            sys.stderr.write("PEAK_KB " + row.split()[1] + "\\n")
atexit.register(peak)
sys.argv = ["sync-job", *sys.argv[1:]]
runpy.run_module("sync_job", run_name="__main__")
"""


def peak_rss_mb(box: Sandbox, *args: str) -> float:
    """Run `sync-job ARGS` to completion; its own peak resident memory in MB."""
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED, "--config", str(box.config_path), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **SECRETS},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak = [line for line in proc.stderr.splitlines() if line.startswith("PEAK_KB ")]
    return int(peak[-1].split()[1]) / 1024


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """Fault-free simulators and a config for them."""
    with running_sandbox(tmp_path) as box:
        yield box


def test_dry_run_memory_does_not_grow_with_the_state_file(sandbox: Sandbox) -> None:
    """80 MB of state: the dry run's peak RSS stays within 20 MB of the real run's."""
    fill_state(sandbox.state_path)
    LifecycleGenerator(sandbox.tiktok, SHOP, seed=41, clock=past_clock).bulk_create(20)
    before = content_digest(sandbox.state_path)
    dry = peak_rss_mb(sandbox, "once", "--dry-run")
    assert content_digest(sandbox.state_path) == before  # changed nothing
    assert sandbox.dealpos.invoices() == []
    real = peak_rss_mb(sandbox, "once")
    assert len(sandbox.dealpos.invoices()) > 0
    assert dry < real + 20, (dry, real)  # the in-memory copy cost the file's size on top
