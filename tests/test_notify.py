"""sd_notify over a real datagram socket, the progress-gated watchdog, and the daemon's messages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sync_job.engine.cycle import CycleResult
from sync_job.sandbox import DealposSimulator, TikTokSimulator, dealpos_variants
from sync_job.service.daemon import Daemon
from sync_job.service.notify import Watchdog, notify, watchdog_timeout
from sync_job.state.store import Store
from tests.service_fakes import StubApp, datagram_socket, drain, make_config, result, stub_app


class FakeClock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_notify_without_socket_is_a_no_op() -> None:
    """Outside systemd (no NOTIFY_SOCKET) nothing is sent and nothing fails."""
    assert notify("READY=1", env={}) is False


@pytest.mark.parametrize("abstract", [False, True])
def test_notify_reaches_a_real_datagram_socket(abstract: bool) -> None:
    """The message arrives as one datagram, on a path or an abstract (@) socket."""
    with datagram_socket(abstract) as (sock, address):
        assert notify("READY=1", env={"NOTIFY_SOCKET": address}) is True
        assert sock.recv(4096) == b"READY=1"


def test_notify_to_a_full_queue_gives_up_instead_of_hanging() -> None:
    """A receiver that stopped reading fills its queue: notify returns False after its timeout."""
    with datagram_socket() as (sock, address):
        env = {"NOTIFY_SOCKET": address}
        sent = 0
        while notify("WATCHDOG=1", env=env, timeout=0.05):
            sent += 1
            assert sent < 100_000, "the queue never filled"
        assert sock.recv(4096) == b"WATCHDOG=1"  # what was queued is intact
        assert notify("STOPPING=1", env=env, timeout=0.05) is True  # room again: it goes out


def test_notify_to_a_vanished_socket_does_not_raise(tmp_path: Path) -> None:
    """A socket path that no longer exists returns False instead of crashing the daemon."""
    assert notify("WATCHDOG=1", env={"NOTIFY_SOCKET": str(tmp_path / "gone")}) is False


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "180000000"}, 180.0),
        ({"WATCHDOG_USEC": "180000000", "WATCHDOG_PID": str(os.getpid())}, 180.0),
        ({"WATCHDOG_USEC": "180000000", "WATCHDOG_PID": "1"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
    ],
)
def test_watchdog_timeout_from_environment(env: dict[str, str], expected: float | None) -> None:
    """WATCHDOG_USEC is read in seconds, only when WATCHDOG_PID (if set) is this process."""
    assert watchdog_timeout(env) == expected


def watchdog(clock: FakeClock, sent: list[str], timeout: float | None = 40.0) -> Watchdog:
    """A watchdog on a hand clock that records what it sends."""

    def send(message: str) -> bool:
        sent.append(message)
        return True

    return Watchdog(timeout, idle_limit=100.0, clock=clock, send=send)


def test_progress_pings_at_most_every_quarter_timeout() -> None:
    """Beats from a busy cycle ping, but no more often than timeout/4."""
    clock, sent = FakeClock(), list[str]()
    dog = watchdog(clock, sent)
    dog.cycle_started()
    for _ in range(5):
        clock.now += 1.5
        dog.beat()
    assert sent == ["WATCHDOG=1"]
    clock.now += 10
    dog.beat()
    assert sent == ["WATCHDOG=1"] * 2


def test_stuck_cycle_gets_no_pings_from_the_idle_thread() -> None:
    """While a cycle runs, only its own progress pings: a hung call lets systemd step in."""
    clock, sent = FakeClock(), list[str]()
    dog = watchdog(clock, sent)
    dog.cycle_started()
    sent.clear()
    clock.now += 30
    assert dog.idle_tick() is False
    assert sent == []


def test_idle_pings_stop_when_cycles_stop_coming() -> None:
    """Between cycles the idle thread pings, until no cycle started for longer than idle_limit."""
    clock, sent = FakeClock(), list[str]()
    dog = watchdog(clock, sent)
    dog.cycle_started()
    dog.cycle_finished()
    sent.clear()
    clock.now += 50
    assert dog.idle_tick() is True and sent == ["WATCHDOG=1"]
    clock.now += 60
    assert dog.idle_tick() is False and sent == ["WATCHDOG=1"]


def test_without_systemd_watchdog_nothing_is_sent() -> None:
    """With no WatchdogSec= the watchdog never sends and starts no thread."""
    clock, sent = FakeClock(), list[str]()
    dog = watchdog(clock, sent, timeout=None)
    dog.start()
    dog.cycle_started()
    dog.cycle_finished()
    dog.idle_tick()
    assert sent == [] and dog._thread is None


def test_idle_thread_pings_a_real_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    """The idle thread sends WATCHDOG=1 datagrams by itself between cycles."""
    with datagram_socket() as (sock, address):
        monkeypatch.setenv("NOTIFY_SOCKET", address)
        dog = Watchdog(0.2, idle_limit=10.0)
        dog.start()
        try:
            assert sock.recv(4096) == b"WATCHDOG=1"
        finally:
            dog.stop()


def test_daemon_sends_ready_watchdog_status_and_stopping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start-up says READY=1, the cycle pings WATCHDOG=1 and STATUS=, the stop says STOPPING=1."""

    def behaviour(app: StubApp) -> list[CycleResult]:
        app.should_stop()  # a page boundary
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = time.monotonic() + 2.0
        while not app.should_stop() and time.monotonic() < deadline:
            time.sleep(0.01)
        return [result(status="stopped")]

    with datagram_socket() as (sock, address):
        monkeypatch.setenv("NOTIFY_SOCKET", address)
        monkeypatch.setenv("WATCHDOG_USEC", "20000000")
        monkeypatch.delenv("WATCHDOG_PID", raising=False)
        store = Store.open(tmp_path / "s.db")
        daemon = Daemon(make_config(tmp_path), app_factory=lambda c: stub_app(store, behaviour))
        assert daemon.run() == 0
        messages = drain(sock)
    assert messages[0] == "READY=1"
    assert "WATCHDOG=1" in messages
    assert "STOPPING=1" in messages
    assert "STATUS=cycle 1: shop1 stopped" in messages
    assert messages.index("READY=1") < messages.index("WATCHDOG=1")


def test_daemon_stops_when_the_signal_lands_on_the_cycle_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel may hand SIGTERM to any thread; the stop is still seen within a second or two."""
    seen: list[bool] = []

    def behaviour(app: StubApp) -> list[CycleResult]:
        # Python runs the handler on the main thread: send once it is blocked in a wait (the
        # scheduler's next run is a minute away), which must not hold the stop back that long.
        main = threading.main_thread().ident or 0
        while sys._current_frames()[main].f_code.co_name != "wait":
            time.sleep(0.01)
        time.sleep(0.2)  # past the Python lines of the wait, into the blocking lock acquire
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
        deadline = time.monotonic() + 5.0
        while not app.should_stop() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(app.should_stop())
        return [result(status="stopped")]

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    store = Store.open(tmp_path / "s.db")
    daemon = Daemon(make_config(tmp_path), app_factory=lambda c: stub_app(store, behaviour))
    assert daemon.run() == 0
    assert seen == [True]
    assert daemon.signal_name == "SIGTERM"


def sandbox_config(tmp_path: Path, tiktok_url: str, dealpos_url: str) -> Path:
    """A config file pointing at the local simulators (secrets come from the environment)."""
    path = tmp_path / "config.toml"
    path.write_text(
        f'[state]\npath = "state/sync.db"\n[schedule]\ninterval_seconds = 60\n'
        f'[tiktok]\nbase_url = "{tiktok_url}"\nauth_url = "{tiktok_url}"\napp_key = "key"\n'
        f'[[tiktok.shops]]\nid = "shop1"\ncipher = "cipher1"\noutlet = "Online Store"\n'
        f'[dealpos]\nbase_url = "{dealpos_url}"\nclient_id = "dp-client"\n'
    )
    return path


def test_sync_job_run_under_a_notify_socket_end_to_end(tmp_path: Path) -> None:
    """`sync-job run` as a real process: READY=1, a cycle, SIGTERM → STOPPING=1 and exit 0."""
    tiktok = TikTokSimulator(
        "key", "app-secret-QQQQ", [("shop1", "cipher1")], rate_limit_per_second=None
    )
    dealpos = DealposSimulator("dp-client", "client-secret-QQQQ", variants=dealpos_variants())
    with tiktok, dealpos, datagram_socket() as (sock, address):
        env = {
            **os.environ,
            "NOTIFY_SOCKET": address,
            "WATCHDOG_USEC": "60000000",
            "TIKTOK_APP_SECRET": "app-secret-QQQQ",
            "TIKTOK_ACCESS_TOKEN": "sandbox-access-token",
            "TIKTOK_REFRESH_TOKEN": "sandbox-refresh-token",
            "DEALPOS_CLIENT_SECRET": "client-secret-QQQQ",
        }
        env.pop("WATCHDOG_PID", None)
        config = sandbox_config(tmp_path, tiktok.url, dealpos.url)
        process = subprocess.Popen(
            [sys.executable, "-m", "sync_job", "--config", str(config), "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            messages = receive_until(sock, lambda m: m.startswith("STATUS="), seconds=20)
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        messages += drain(sock)
    assert process.returncode == 0, stderr[-3000:]
    assert messages[0] == "READY=1"
    assert "STATUS=cycle 1: shop1 ok" in messages
    assert "WATCHDOG=1" in messages and messages[-1] == "STOPPING=1"
    assert "app-secret-QQQQ" not in stderr and "client-secret-QQQQ" not in stderr


def receive_until(sock: Any, done: Any, *, seconds: float) -> list[str]:
    """Collect datagrams until one satisfies `done` (or fail after `seconds`)."""
    messages: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            continue
        if done(messages[-1]):
            return messages
    raise AssertionError(f"no matching datagram in {seconds}s: {messages}")
