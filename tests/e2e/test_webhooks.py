"""End to end: the real `sync-job run` receiving signed TikTok webhooks over loopback HTTP.

The interval is 300 s and the overlap 1 s, so once the first cycle is done, polling cannot explain
an invoice within the test: only the webhook path can.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sync_job.sandbox.faults import Fault, FaultConfig
from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.tiktok.signing import webhook_signature
from tests.e2e.conftest import SECRETS, SHOP, Sandbox, past_clock, running_sandbox

pytestmark = pytest.mark.e2e

APP_KEY = "e2e-app-key"
PATH = "/tiktok/webhook"
DETAIL = "GET /order/202309/orders"


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Daemon:
    """`sync-job run` in a subprocess with the webhook receiver on a loopback port."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.port = free_port()
        box.write_config(
            **{
                "schedule.interval_seconds": 300,
                "schedule.jitter_seconds": 0,
                "sync.overlap_seconds": 1,
                "webhook.listen": f"127.0.0.1:{self.port}",
                "webhook.path": PATH,
            }
        )
        self.url = f"http://127.0.0.1:{self.port}{PATH}"
        self.proc: subprocess.Popen[str] | None = None
        self.session = requests.Session()

    def start(self) -> None:
        """Start the daemon; return once it answers webhooks and its first cycle is done."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sync_job", "--config", str(self.box.config_path), "run"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **SECRETS},
        )
        deadline = time.monotonic() + 30
        while not (self._answers() and self._finished_runs() > 0):
            assert time.monotonic() < deadline, "the daemon did not come up"
            assert self.proc.poll() is None, self.stop_output()
            time.sleep(0.1)

    def _answers(self) -> bool:
        try:
            return self.session.get(self.url, timeout=1).status_code == 405
        except requests.ConnectionError:
            return False

    def _finished_runs(self) -> int:
        return len(self.query("SELECT id FROM runs WHERE finished_at IS NOT NULL"))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Read the state database (a separate read-only connection)."""
        if not self.box.state_path.exists():
            return []
        conn = sqlite3.connect(f"file:{self.box.state_path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []  # not migrated yet
        finally:
            conn.close()

    def post(self, raw: bytes, authorization: str | None = None) -> requests.Response:
        """POST a body, signed with the app's secret unless told otherwise."""
        header = authorization or webhook_signature(APP_KEY, SECRETS["TIKTOK_APP_SECRET"], raw)
        return self.session.post(self.url, data=raw, headers={"Authorization": header}, timeout=5)

    def stop_output(self) -> str:
        """Kill the daemon if still running; return its log."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.communicate(timeout=10)[1][-3000:]


def notification(order_id: str, n: int = 1, *, shop: str = SHOP, kind: int = 1) -> bytes:
    """A notification body as TikTok sends it."""
    payload = {
        "type": kind,
        "tts_notification_id": f"73800662840100{n:05d}",
        "shop_id": shop,
        "timestamp": int(time.time()),
        "data": {"order_id": order_id, "order_status": "AWAITING_SHIPMENT"},
    }
    return json.dumps(payload).encode()


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    """Simulators and a started daemon (stopped afterwards, whatever happened)."""
    with running_sandbox(tmp_path) as box:
        d = Daemon(box)
        d.start()
        try:
            yield d
        finally:
            d.stop_output()


def wait_for(predicate: Any, seconds: float) -> float:
    """Poll until `predicate()` holds; return how long it took (fail after `seconds`)."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


def test_signed_notification_becomes_an_invoice_within_5_seconds(daemon: Daemon) -> None:
    """Interval 300 s: a paid order notified by webhook is invoiced within 5 s, one detail call."""
    gen = LifecycleGenerator(daemon.box.tiktok, SHOP, seed=11, clock=past_clock)
    order_id = gen.bulk_create(1)[0]
    started = time.monotonic()
    assert daemon.post(notification(order_id)).status_code == 200
    wait_for(lambda: order_id in daemon.box.dealpos.active_by_reference(), 5.0)
    assert time.monotonic() - started < 5.0
    assert daemon.box.tiktok.calls.count(DETAIL) == 1
    # marked worked off just after the push
    wait_for(lambda: daemon.query("SELECT outcome FROM webhook_inbox") == [("pushed",)], 2.0)


def test_refused_and_ignored_deliveries_fetch_nothing(daemon: Daemon) -> None:
    """Bad signature 401, oversize 413, bad JSON 400, duplicate and unknown shop 200: no fetch."""
    gen = LifecycleGenerator(daemon.box.tiktok, SHOP, seed=12, clock=past_clock)
    order_id = gen.bulk_create(1)[0]
    raw = notification(order_id, 7)
    assert daemon.post(raw, authorization="0" * 64).status_code == 401
    big = raw + b" " * 65536
    assert daemon.post(big).status_code == 413
    assert daemon.post(b'{"type": 1, "shop_id": ').status_code == 400
    assert daemon.post(b'{"tts_notification_id": "1", "shop_id": "2"}').status_code == 400
    assert daemon.post(notification(order_id, 8, shop="7495000000000000000")).status_code == 200
    time.sleep(1.5)  # more than the worker's gather time and a round
    assert daemon.box.tiktok.calls.count(DETAIL) == 0
    assert daemon.query("SELECT COUNT(*) FROM webhook_inbox") == [(0,)]
    # the same notification twice: one fetch
    assert daemon.post(raw).status_code == 200
    wait_for(lambda: order_id in daemon.box.dealpos.active_by_reference(), 5.0)
    assert daemon.post(raw).status_code == 200
    time.sleep(1.5)
    assert daemon.box.tiktok.calls.count(DETAIL) == 1
    counts = dict(daemon.query("SELECT kind, n FROM webhook_counts"))
    assert counts == {"rejected": 4, "unknown_shop": 1, "received": 1, "duplicate": 1}


def test_sigterm_stops_the_daemon_within_30_seconds_while_notifications_arrive(
    daemon: Daemon,
) -> None:
    """A stream of notifications does not hold the stop: exit 0 within 30 s."""
    gen = LifecycleGenerator(daemon.box.tiktok, SHOP, seed=13, clock=past_clock)
    ids = gen.bulk_create(40)
    stop = threading.Event()

    def send() -> None:
        for n, order_id in enumerate(ids * 50):
            if stop.is_set():
                return
            with contextlib.suppress(requests.RequestException):  # the receiver goes away
                daemon.post(notification(order_id, n))
            time.sleep(0.01)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        time.sleep(1.0)
        assert daemon.proc is not None
        daemon.proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = daemon.proc.wait(timeout=30)
        assert code == 0, daemon.stop_output()
        assert time.monotonic() - started < 30
    finally:
        stop.set()
        sender.join()


def test_notification_received_just_before_sigkill_is_processed_after_restart(
    daemon: Daemon,
) -> None:
    """Durable before the 200: the worker never got to it, the restarted daemon does."""
    gen = LifecycleGenerator(daemon.box.tiktok, SHOP, seed=14, clock=past_clock)
    order_id = gen.bulk_create(1)[0]
    daemon.box.tiktok.set_faults(FaultConfig(slow_seconds=30))
    daemon.box.tiktok.faults.queue(Fault.SLOW, times=1, endpoint=DETAIL)  # a round would stall
    assert daemon.post(notification(order_id)).status_code == 200
    assert daemon.proc is not None
    daemon.proc.kill()
    daemon.proc.wait(timeout=10)
    assert order_id not in daemon.box.dealpos.active_by_reference()
    assert daemon.query("SELECT outcome FROM webhook_inbox") == [(None,)]
    daemon.start()
    wait_for(lambda: order_id in daemon.box.dealpos.active_by_reference(), 10.0)
    wait_for(lambda: daemon.query("SELECT outcome FROM webhook_inbox") == [("pushed",)], 5.0)
