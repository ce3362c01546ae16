"""The daemon: cycles that never kill it, stop requests, auth alarms, scheduling, shop isolation."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from sync_job.dealpos.stats import CallStats
from sync_job.domain.errors import Stopped, TransientError
from sync_job.domain.model import Window
from sync_job.engine.cycle import CycleResult
from sync_job.service import daemon as daemon_module
from sync_job.service.app import App
from sync_job.service.daemon import Daemon, is_auth_failure, status_line
from sync_job.state.store import Store
from sync_job.tiktok.client import Page
from tests.factories import order
from tests.fakes import FakeDealpos
from tests.service_fakes import StubApp, make_config, result


def stub_daemon(tmp_path: Path, behaviour: Any = None, **kw: Any) -> tuple[Daemon, list[StubApp]]:
    """A daemon whose App is a StubApp over a real store; returns it and the apps it opened."""
    opened: list[StubApp] = []

    def factory(config: Any) -> Any:
        app = StubApp(Store.open(tmp_path / f"state{len(opened)}.db"), behaviour)
        opened.append(app)
        return app

    return Daemon(make_config(tmp_path, **kw), app_factory=factory), opened


def sigterm_then(wait_for_stop: bool = True) -> Any:
    """A run_once that sends the process a real SIGTERM, then polls should_stop like a cycle."""

    def behaviour(app: StubApp) -> list[CycleResult]:
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = time.monotonic() + 2.0
        while wait_for_stop and not app.should_stop() and time.monotonic() < deadline:
            time.sleep(0.01)
        return [result(status="stopped")]

    return behaviour


def test_cycle_opens_the_app_once_in_the_job_thread(tmp_path: Path) -> None:
    """The App (and its SQLite connection) is opened lazily by the thread running the cycle."""
    daemon, opened = stub_daemon(tmp_path)
    worker = threading.Thread(target=daemon.cycle)
    worker.start()
    worker.join(2)
    daemon.cycle()
    assert len(opened) == 1 and opened[0].runs == 2
    assert opened[0].should_stop == daemon.should_stop
    assert daemon.cycles == 2


def test_default_app_waits_through_the_daemons_interruptible_sleep(tmp_path: Path) -> None:
    """The real App is built with the daemon's sleep, so paced waits beat and see stops."""
    config = make_config(tmp_path)
    daemon = Daemon(config)
    app = daemon._open_app(config)
    try:
        # Every wait goes through the run budget, which then waits with the daemon's sleep.
        assert app.sleep == app.budget.sleep and app.budget._sleep == daemon.sleep
        assert app.dealpos._pacer._sleep == app.budget.sleep
    finally:
        app.close()


def test_failed_cycle_is_logged_and_retried_next_time(tmp_path: Path) -> None:
    """A failed cycle (TikTok down) comes back as a result; the next cycle runs as usual."""
    outcomes = iter([[result(status="failed", error="TikTok unreachable")], [result()]])
    daemon, opened = stub_daemon(tmp_path, lambda app: next(outcomes))
    assert daemon.cycle()[0].status == "failed"
    assert daemon.cycle()[0].status == "ok"
    assert opened[0].runs == 2


def test_exception_escaping_a_cycle_is_caught_and_the_app_reopened(tmp_path: Path) -> None:
    """An unexpected exception is logged, counted, and the next cycle starts with a fresh App."""
    calls = iter([RuntimeError("bug"), None])

    def behaviour(app: StubApp) -> list[CycleResult]:
        error = next(calls)
        if error is not None:
            raise error
        return [result()]

    daemon, opened = stub_daemon(tmp_path, behaviour)
    with capture_logs() as logs:
        assert daemon.cycle() == []
    assert any(e["event"].startswith("cycle crashed") for e in logs)
    assert opened[0].closed and daemon.app is None
    assert daemon.metrics.registry.get_sample_value("sync_job_cycle_crashes_total") == 1
    assert daemon.cycle()[0].status == "ok"
    assert len(opened) == 2


def test_app_that_cannot_open_is_retried_next_interval(tmp_path: Path) -> None:
    """A state database that cannot be opened fails one cycle, not the daemon."""
    attempts: list[int] = []

    def factory(config: Any) -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise PermissionError("state folder not writable")
        return StubApp(Store.open(tmp_path / "s.db"))

    daemon = Daemon(make_config(tmp_path), app_factory=factory)
    assert daemon.cycle() == []
    assert daemon.cycle()[0].status == "ok"


def test_repeated_auth_failures_are_reported_loudly(tmp_path: Path) -> None:
    """Three auth failures in a row log critical (per shop); success afterwards says so."""
    failing = [
        result(status="failed", error="DealPOS did not issue a token: 401", kind="AuthError")
    ]
    outcomes = iter([failing, failing, failing, [result()]])
    daemon, _ = stub_daemon(tmp_path, lambda app: next(outcomes))
    with capture_logs() as logs:
        for _ in range(4):
            daemon.cycle()
    critical = [e for e in logs if e["log_level"] == "critical"]
    assert len(critical) == 1 and critical[0]["cycles_in_a_row"] == 3
    assert any(e["event"] == "authentication works again" for e in logs)
    gauge = daemon.metrics.registry.get_sample_value
    assert gauge("sync_job_auth_failures_consecutive", {"shop": "shop1"}) == 0


@pytest.mark.parametrize(
    ("status", "error", "kind", "expected"),
    [
        ("failed", "whatever the text says", "AuthError", True),
        ("failed", "token refresh refused, re-authorize the app: 401", "PermanentError", False),
        ("failed", "token in a transient message", "TransientError", False),
        ("stopped", "stop requested", "Stopped", False),
        ("ok", None, None, False),
    ],
)
def test_auth_failure_detection(
    status: str, error: str | None, kind: str | None, expected: bool
) -> None:
    """Auth failures are told by the error kind the cycle records, never by the message's words."""
    res = result(status=status, error=error, kind=kind)
    assert is_auth_failure(res) is expected


def test_stop_request_skips_a_queued_cycle(tmp_path: Path) -> None:
    """After a stop request a cycle queued earlier does nothing (not even open the App)."""
    daemon, opened = stub_daemon(tmp_path)
    daemon.request_stop(signal.SIGTERM)
    assert daemon.stop.is_set() and daemon.signal_name == "SIGTERM"
    assert daemon.cycle() == [] and opened == []


def test_second_signal_forces(tmp_path: Path) -> None:
    """A second signal sets the force flag (stop waiting for the cycle)."""
    daemon, _ = stub_daemon(tmp_path)
    daemon.request_stop(signal.SIGINT)
    assert not daemon.force.is_set()
    daemon.request_stop(signal.SIGINT)
    assert daemon.force.is_set()


def test_sleep_finishes_short_waits_and_cuts_long_ones_on_stop(tmp_path: Path) -> None:
    """Paced waits run to the end normally; after a stop request only a short rest is kept."""
    daemon, _ = stub_daemon(tmp_path)
    started = time.monotonic()
    daemon.sleep(0.05)
    assert time.monotonic() - started >= 0.05
    daemon.request_stop(signal.SIGTERM)
    started = time.monotonic()
    with pytest.raises(Stopped):
        daemon.sleep(60)
    daemon.sleep(0.02)  # short enough to finish: the call after it goes out and is recorded
    assert time.monotonic() - started < 1.0


def test_stop_interrupts_a_long_wait_within_a_step(tmp_path: Path) -> None:
    """A stop request reaches a cycle waiting out a long pacer hold within about one step."""
    daemon, _ = stub_daemon(tmp_path)
    threading.Timer(0.1, daemon.request_stop, (signal.SIGTERM,)).start()
    started = time.monotonic()
    with pytest.raises(Stopped):
        daemon.sleep(120)
    assert time.monotonic() - started < 1.5


def test_job_is_single_flight_coalesced_and_tolerant_of_misfires(tmp_path: Path) -> None:
    """The cycle job: one instance at most, missed runs coalesce, misfires run late, first now."""
    daemon, _ = stub_daemon(tmp_path, interval=30)
    daemon._schedule()
    job = daemon.scheduler.get_job("cycle")
    assert job.max_instances == 1 and job.coalesce is True
    assert job.misfire_grace_time >= 60
    assert job.trigger.interval.total_seconds() == 30
    assert job.next_run_time is not None


def test_daemon_stops_on_a_real_sigterm_mid_cycle_and_exits_0(tmp_path: Path) -> None:
    """SIGTERM during a cycle: the cycle sees should_stop, finishes, the App closes, exit 0."""
    daemon, opened = stub_daemon(tmp_path, sigterm_then())
    before = signal.getsignal(signal.SIGTERM)
    started = time.monotonic()
    assert daemon.run() == 0
    assert time.monotonic() - started < 3.0
    assert opened[0].runs == 1 and opened[0].closed
    assert opened[0].thread is not threading.main_thread()
    assert not daemon.abandoned
    assert signal.getsignal(signal.SIGTERM) is before


def test_stuck_cycle_is_abandoned_after_the_grace_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cycle stuck in a call past the grace time does not hold the exit (still exit 0)."""
    monkeypatch.setattr(daemon_module, "STOP_GRACE_SECONDS", 0.3)
    release = threading.Event()

    def stuck(app: StubApp) -> list[CycleResult]:
        os.kill(os.getpid(), signal.SIGTERM)
        release.wait(3.0)
        return []

    daemon, _ = stub_daemon(tmp_path, stuck)
    started = time.monotonic()
    try:
        assert daemon.run() == 0
        assert daemon.abandoned
        assert time.monotonic() - started < 2.0
    finally:
        release.set()


def test_second_sigterm_stops_waiting_for_a_stuck_cycle(tmp_path: Path) -> None:
    """A second signal ends the wait for the running cycle at once."""
    release = threading.Event()

    def stuck(app: StubApp) -> list[CycleResult]:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)
        release.wait(3.0)
        return []

    daemon, _ = stub_daemon(tmp_path, stuck)
    started = time.monotonic()
    try:
        assert daemon.run() == 0
        assert daemon.abandoned and time.monotonic() - started < 2.0
    finally:
        release.set()


def test_status_line_names_each_shop() -> None:
    """The systemd STATUS= line shows the cycle number and every shop's outcome."""
    line = status_line([result("a"), result("b", status="failed")], 7)
    assert line == "cycle 7: a ok, b failed"
    assert "no shop ran" in status_line([], 8)


# -- one shop failing never stops the others (App.run_once) --------------------------------------


class TwoShopTikTok:
    """The first shop's TikTok calls raise `error`; the second shop has one order."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.pages = [Page([order()], 1, 1)]

    def iter_orders(self, cipher: str, window: Window) -> Any:
        """Raise for shop1; shop2's one page comes in its first window."""
        if cipher == "cipher-shop1":
            raise self.error
        while self.pages:
            yield self.pages.pop()

    def iter_returns(self, cipher: str, window: Window) -> Any:
        """No returns."""
        return iter(())

    def fetch_orders(self, cipher: str, ids: Any) -> list[dict[str, Any]]:
        """Nothing to fetch."""
        return []


def two_shop_app(tmp_path: Path, error: Exception) -> tuple[App, FakeDealpos]:
    """A real App over a real store, with fake TikTok and DealPOS, two shops."""
    config = make_config(tmp_path, ("shop1", "shop2"))
    dealpos = FakeDealpos()
    dealpos.stats = CallStats()  # type: ignore[attr-defined]
    store = Store.open(config.state.path)
    app = App(config, store, TwoShopTikTok(error), dealpos, sleep=lambda s: None)  # type: ignore[arg-type]
    return app, dealpos


@pytest.mark.parametrize(
    "error",
    [TransientError("TikTok unreachable"), KeyError("line_items")],
    ids=["remote-failure", "crash"],
)
def test_one_shop_failing_never_stops_the_others(tmp_path: Path, error: Exception) -> None:
    """TikTok down, or a bug, in shop1's cycle: shop1 fails, shop2's invoice is still created."""
    app, dealpos = two_shop_app(tmp_path, error)
    try:
        results = app.run_once(None)
    finally:
        app.close()
    assert [(r.shop_id, r.status) for r in results] == [("shop1", "failed"), ("shop2", "ok")]
    assert len(dealpos.invoices) == 1
