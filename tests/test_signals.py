"""SIGTERM/SIGINT during `once` and `backfill`: the call in flight finishes, the run is recorded
as `stopped`, exit 0 (SIGTERM) or 130 (SIGINT), no "Aborted!", and nothing is pushed twice."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from sync_job.sandbox.faults import FaultConfig
from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.state.store import Store
from tests.e2e.conftest import SHOP, Sandbox, past_clock, running_sandbox
from tests.test_single_flight import assert_each_call_once, finish, start

pytestmark = pytest.mark.e2e

ORDERS = 40
LATENCY = FaultConfig(slow=1.0, slow_seconds=0.05)  # every DealPOS call answered 50 ms late


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[Sandbox]:
    """Simulators whose DealPOS is slow enough to signal a run mid-push."""
    with running_sandbox(tmp_path, dealpos_faults=LATENCY) as box:
        yield box


def last_run(box: Sandbox) -> dict[str, object]:
    """The newest run row of the shop."""
    store = Store.open(box.state_path)
    try:
        run = store.last_run(SHOP)
    finally:
        store.close()
    assert run is not None
    return run


def signal_mid_push(box: Sandbox, signum: int, *args: str) -> tuple[int, str]:
    """Start a command, signal it once DealPOS has a few invoices, return (code, stderr)."""
    proc = start(box, *args)
    deadline = time.monotonic() + 30
    while len(box.dealpos.invoices()) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert box.dealpos.invoices(), "the run never started pushing"
    proc.send_signal(signum)
    return finish(proc)


@pytest.mark.parametrize(
    ("signum", "code", "command"),
    [
        (signal.SIGTERM, 0, ("once",)),
        (signal.SIGINT, 130, ("once",)),
        (signal.SIGINT, 130, ("backfill", "--from", (date.today() - timedelta(2)).isoformat())),
    ],
)
def test_signal_mid_push_stops_cleanly(
    slow: Sandbox, signum: int, code: int, command: tuple[str, ...]
) -> None:
    """Mid-push: stopped with work left, the right exit code, then a rerun finishes it once."""
    LifecycleGenerator(
        slow.tiktok, SHOP, seed=21, clock=past_clock, unknown_sku_share=0
    ).bulk_create(ORDERS)
    got, err = signal_mid_push(slow, signum, *command)
    assert got == code, err[-2000:]
    assert "Aborted" not in err and "Traceback" not in err, err[-2000:]
    run = last_run(slow)
    assert run["status"] == "stopped", run
    assert len(slow.dealpos.invoices()) < ORDERS  # it really stopped early
    slow.run(*command)
    assert last_run(slow)["status"] == "ok"
    assert_each_call_once(slow, ORDERS)
