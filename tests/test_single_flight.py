"""Single flight per shop: concurrent runs on one state file never push the same action twice.

Two real processes share one state file while DealPOS answers every call 50 ms late, so their
runs overlap; the lease in the state database lets one of them push and tells the other "busy".
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from sync_job.sandbox.faults import FaultConfig
from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.state.locks import STALE_SECONDS, LockBusy, ShopLock
from sync_job.state.migrations import migrations
from sync_job.state.store import Store
from tests.e2e.conftest import SECRETS, SHOP, Sandbox, past_clock, running_sandbox

BUSY = "another run holds this shop"
ORDERS = 60
# Every DealPOS call is answered normally, 50 ms late: a push of 60 creates takes ~3 s.
LATENCY = FaultConfig(slow=1.0, slow_seconds=0.05)


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[Sandbox]:
    """Simulators whose DealPOS is slow enough for two runs to overlap."""
    with running_sandbox(tmp_path, dealpos_faults=LATENCY) as box:
        yield box


def start(box: Sandbox, *args: str) -> subprocess.Popen[str]:
    """Start `python -m sync_job --config ... ARGS` without waiting for it."""
    return subprocess.Popen(
        [sys.executable, "-m", "sync_job", "--config", str(box.config_path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **SECRETS},
    )


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    """Wait for a process; return its exit code and stderr (where the logs go)."""
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def assert_each_call_once(box: Sandbox, orders: int, *, pays: int = 0) -> None:
    """Every order created exactly once (and paid once when asked), nothing refused."""
    calls = box.dealpos.calls
    assert calls.count("POST /api/v3/Invoice") == orders, calls.snapshot()
    assert calls.count("POST /api/v3/Payment/Invoice/AddPaymentFull") == pays, calls.snapshot()
    refused = [o for o in ("400", "409", "400 (slow)", "409 (slow)") if calls.count(outcome=o)]
    assert refused == [], calls.snapshot()
    assert all(len(v) == 1 for v in box.dealpos.by_reference().values())
    assert len(box.dealpos.invoices()) == orders


@pytest.mark.e2e
def test_two_once_runs_at_the_same_time_push_each_action_once(slow: Sandbox) -> None:
    """Two `once` processes started together: one pushes everything, the other says busy."""
    LifecycleGenerator(
        slow.tiktok, SHOP, seed=11, clock=past_clock, unknown_sku_share=0
    ).bulk_create(ORDERS)
    first, second = start(slow, "once"), start(slow, "once")
    results = [finish(first), finish(second)]
    # The one told busy exits 1 and names the run holding the shop.
    assert sorted(code for code, _ in results) == [0, 1], results
    assert sum(BUSY in err for _, err in results) == 1, [err[-800:] for _, err in results]
    busy_err = next(err for code, err in results if code == 1)
    assert "is being synced by realtime:" in busy_err
    assert_each_call_once(slow, ORDERS)
    assert slow.report().ok


@pytest.mark.e2e
def test_daemon_and_backfill_together_push_each_action_once(slow: Sandbox) -> None:
    """A backfill started mid-cycle of the daemon is told busy; a later one pays, once each."""
    slow.write_config(**{"sync.settle_completed": "download"})
    LifecycleGenerator(
        slow.tiktok, SHOP, seed=12, clock=past_clock, unknown_sku_share=0
    ).bulk_create(ORDERS, status="COMPLETED")
    daemon = start(slow, "run")
    try:
        deadline = time.monotonic() + 30
        while not slow.dealpos.invoices() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slow.dealpos.invoices(), "the daemon never started pushing"
        first_day = (date.today() - timedelta(days=2)).isoformat()
        code, err = finish(start(slow, "backfill", "--from", first_day))
        assert code == 1 and BUSY in err and "synced by realtime:" in err, err[-1500:]
        while len(slow.dealpos.invoices()) < ORDERS and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon_code, daemon_err = finish(daemon)
    assert daemon_code == 0, daemon_err[-1500:]
    assert_each_call_once(slow, ORDERS)  # created Sent+Unpaid by the daemon, none paid yet
    slow.run("backfill", "--from", first_day)
    assert_each_call_once(slow, ORDERS, pays=ORDERS)
    assert {(i.fulfillment, i.payment_status) for i in slow.dealpos.invoices()} == {
        ("Sent", "Paid")
    }


def test_live_holder_on_this_host_keeps_its_lease_past_expiry(tmp_path: Path) -> None:
    """A live holder in another process keeps the lease, even once its lease time ran out."""
    store = Store.open(tmp_path / "s.db", clock=lambda: 5000.0)
    lock = ShopLock(store, SHOP, "once:mine", clock=lambda: 5000.0)
    parent = os.getppid()  # a live process on this host that is not us
    store.db.execute(
        "INSERT INTO locks VALUES (?, ?, ?, ?, ?)", (SHOP, "run:daemon", parent, lock.host, 4000.0)
    )
    with pytest.raises(LockBusy, match=r"run:daemon \(pid"):
        lock.acquire()
    row = store.db.execute("SELECT holder, pid FROM locks").fetchone()
    assert tuple(row) == ("run:daemon", parent)


def test_lease_of_a_reused_pid_is_taken_over_when_long_stale(tmp_path: Path) -> None:
    """A live pid whose lease ran out long ago is a reused pid: its lease is taken over."""
    now = 10_000.0
    store = Store.open(tmp_path / "s.db", clock=lambda: now)
    lock = ShopLock(store, SHOP, "once:mine", clock=lambda: now)
    stale = now - STALE_SECONDS - 1
    store.db.execute(
        "INSERT INTO locks VALUES (?, ?, ?, ?, ?)", (SHOP, "ghost", os.getppid(), lock.host, stale)
    )
    lock.acquire()
    assert store.db.execute("SELECT holder FROM locks").fetchone()[0] == "once:mine"


def test_expired_lease_from_another_host_is_taken_over(tmp_path: Path) -> None:
    """On another host liveness cannot be checked: an expired lease is taken, a live one not."""
    now = [10_000.0]
    store = Store.open(tmp_path / "s.db", clock=lambda: now[0])
    lock = ShopLock(store, SHOP, "once:mine", clock=lambda: now[0])
    store.db.execute(
        "INSERT INTO locks VALUES (?, ?, ?, ?, ?)", (SHOP, "far", 1, "other-host", now[0] + 5)
    )
    with pytest.raises(LockBusy):
        lock.acquire()
    now[0] += 6
    lock.acquire()
    assert store.db.execute("SELECT holder FROM locks").fetchone()[0] == "once:mine"


def _open_when_released(path: str, barrier: Any) -> None:
    """Child process: wait for the others, then open (create and migrate) the state file."""
    barrier.wait(timeout=10)
    Store.open(Path(path)).close()


def test_runs_creating_a_new_state_file_at_once_all_succeed(tmp_path: Path) -> None:
    """Four processes opening a fresh state file together: none fails, one schema, one record."""
    fork = multiprocessing.get_context("fork")
    for round_ in range(15):
        path = tmp_path / f"r{round_}" / "state" / "sync.db"
        barrier = fork.Barrier(4)
        procs = [
            fork.Process(target=_open_when_released, args=(str(path), barrier)) for _ in "abcd"
        ]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=30)
        assert [proc.exitcode for proc in procs] == [0, 0, 0, 0], f"round {round_}"
        store = Store.open(path)
        applied = store.db.execute("SELECT name FROM _sqlite_migrations").fetchall()
        store.close()
        every = [m.name for m in migrations.pending(sqlite_utils.Database(memory=True))]
        assert [name for (name,) in applied] == every  # each one applied exactly once
