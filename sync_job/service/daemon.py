"""`sync-job run`: APScheduler runs the cycle every interval until SIGTERM/SIGINT.

The cycle never runs twice at once (max_instances=1 on a one-thread pool), missed runs coalesce
into one, and a stop request lets the current page or DealPOS call finish before the process
exits 0. The signal handler only sets a flag; the main thread, which otherwise only waits for
that flag, then shuts the scheduler down (doing it inside a signal handler can deadlock on
APScheduler's locks). The main thread wakes every STOP_POLL_SECONDS: the kernel may hand a signal
to any thread, and Python runs the handler only once the main thread runs again.

Under systemd (Type=notify): READY=1 once the scheduler runs, WATCHDOG=1 while the cycle makes
progress or the scheduler is idle on time (see notify.Watchdog), STATUS= after every cycle and
STOPPING=1 when a stop begins.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import structlog
from apscheduler.events import EVENT_SCHEDULER_STARTED, SchedulerEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from sync_job.domain.errors import StateError, Stopped
from sync_job.engine.cycle import CycleResult
from sync_job.service.app import App
from sync_job.service.config import Config
from sync_job.service.inbox_worker import InboxWorker
from sync_job.service.metrics import Metrics, MetricsServer, start_server_if_configured
from sync_job.service.notify import Watchdog, notify, watchdog_timeout
from sync_job.service.serve import ServerThread
from sync_job.service.verifying import run_daily_verify, run_requested_verifies
from sync_job.service.web import start_web_if_configured
from sync_job.service.webhook import RunningReceiver, start_receiver
from sync_job.state.problems import state_error

__all__ = ["Daemon", "is_auth_failure", "run_daemon"]

log = structlog.get_logger(__name__)

# From the stop signal, a running cycle gets this long to reach a safe point; the process is out
# well within the interface's 30 s (and systemd's TimeoutStopSec=45s).
STOP_GRACE_SECONDS = 25.0
AUTH_FAILURES_BEFORE_ALARM = 3
# Missed runs (a long cycle, a suspended laptop) still run late up to this long; APScheduler's
# default of 1 s would silently drop a run that started a moment late.
MIN_MISFIRE_GRACE_SECONDS = 60
# Slack on top of interval + jitter before an idle scheduler counts as stuck (watchdog).
IDLE_SLACK_SECONDS = 30.0
# A paced or retry wait beats the watchdog this often, and sees a stop request this soon.
SLEEP_STEP_SECONDS = 1.0
# How often the main thread looks at the stop flag (and so runs a signal handler that is due).
STOP_POLL_SECONDS = 0.5
# On a stop request a wait with at most this left is finished (the call after it goes out and
# is recorded); a longer one ends at once with Stopped.
STOP_WAIT_LIMIT_SECONDS = 5.0


def is_auth_failure(result: CycleResult) -> bool:
    """True when a shop's cycle failed because credentials or permissions were refused."""
    return result.status == "failed" and result.error_kind == "AuthError"


class Daemon:
    """Owns the scheduler, the stop flag, the watchdog, the metrics and the App."""

    def __init__(
        self,
        config: Config,
        *,
        app_factory: Callable[[Config], App] | None = None,
        metrics: Metrics | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.app_factory = app_factory or self._open_app
        self.metrics = metrics or Metrics()
        self.monotonic = monotonic
        self.stop = threading.Event()
        self.force = threading.Event()  # a second signal: stop waiting for the cycle
        self.busy = threading.Lock()
        self.app: App | None = None
        self.auth_failures: Counter[str] = Counter()
        self.cycles = 0
        self.abandoned = False
        self.fatal: StateError | None = None  # set when the state file cannot be used
        self.signal_name: str | None = None
        self.server: MetricsServer | None = None
        self.receiver: RunningReceiver | None = None
        self.worker: InboxWorker | None = None
        self.web: ServerThread | None = None
        sched = config.schedule
        idle_limit = sched.interval_seconds + sched.jitter + IDLE_SLACK_SECONDS
        self.watchdog = Watchdog(watchdog_timeout(), idle_limit=idle_limit, clock=monotonic)
        # One worker thread: every cycle, and so the SQLite connection, lives on the same thread.
        self.scheduler = BackgroundScheduler(
            timezone="UTC",
            executors={"default": ThreadPoolExecutor(1, {"thread_name_prefix": "sync-cycle"})},
        )

    # -- the job (runs on the scheduler's worker thread) ----------------------------------------

    def _open_app(self, config: Config) -> App:
        return App.open(config, sleep=self.sleep)

    def should_stop(self) -> bool:
        """Polled by the cycle between pages and between DealPOS actions: also a sign of life."""
        self.watchdog.beat()
        return self.stop.is_set()

    def sleep(self, seconds: float) -> None:
        """Wait (pacing, retries) in steps that beat the watchdog; a stop cuts long waits short."""
        deadline = self.monotonic() + seconds
        while (left := deadline - self.monotonic()) > 0:
            if self.stop.is_set():
                if left > STOP_WAIT_LIMIT_SECONDS:
                    raise Stopped("stop requested during a wait")
                time.sleep(left)
                return
            self.stop.wait(min(left, SLEEP_STEP_SECONDS))
            self.watchdog.beat()

    def cycle(self) -> list[CycleResult]:
        """One scheduled cycle over every shop; never raises, so the scheduler lives on."""
        with self.busy:
            if self.stop.is_set():
                return []  # a run queued just before the stop request
            self.watchdog.cycle_started()
            try:
                results = self._run_shops()
                self._daily_verify()
            except Exception as exc:
                self._crashed(exc)
                results = []
            finally:
                self.watchdog.cycle_finished()
            self.cycles += 1
            self._after_cycle(results)
            return results

    def _crashed(self, exc: Exception) -> None:
        """Start afresh next interval, unless the state file cannot be used: then stop, non-zero."""
        self.metrics.crashes.inc()
        self._discard_app()
        if not self._stop_if_state_unusable(exc):
            log.exception("cycle crashed; trying again next interval")

    def _stop_if_state_unusable(self, exc: Exception) -> bool:
        """Stop the daemon (exit non-zero) when `exc` says the state file cannot be used."""
        problem = state_error(exc, self.config.state.path)
        if problem is None:
            return False
        # Retrying every interval cannot fix the file: exit so systemd sees the failure.
        log.critical("the state file cannot be used; stopping", error=str(problem))
        self.fatal = problem
        self.stop.set()
        return True

    def _run_shops(self) -> list[CycleResult]:
        return self._open().run_once(None)

    def _open(self) -> App:
        """The App, opened on first use (by whichever job runs first, under `busy`)."""
        if self.app is None:
            self.app = self.app_factory(self.config)
            self.app.should_stop = self.should_stop
        return self.app

    def webhook_round(self) -> None:
        """Work off stored notifications between cycles (never during one: `busy`)."""
        while not self.busy.acquire(timeout=0.2):
            if self.stop.is_set():
                return
        try:
            if self.stop.is_set():
                return
            try:
                results = self._open().run_inbox()
            except Exception as exc:
                self._discard_app()
                if not self._stop_if_state_unusable(exc):
                    log.exception("webhook round crashed; the notifications wait for the next one")
                return
            if results:
                self._after_cycle(results)
        finally:
            self.busy.release()

    def _daily_verify(self) -> None:
        """Verifies asked for on the page, and with `[verify] daily` the previous day once per
        shop (after the cycle, in its thread: the SQLite connection and the pacer are its own)."""
        if self.app is None or self.stop.is_set():
            return
        try:
            run_requested_verifies(self.app)  # "Verify yesterday" on the operator page
            if self.config.verify.daily:
                run_daily_verify(self.app)
        except Exception:  # a verify problem must never stop the mirror: next cycle tries again
            log.exception("daily verify crashed")

    def _discard_app(self) -> None:
        """Drop the App after an unexpected error, so the next cycle starts from a clean slate."""
        app, self.app = self.app, None
        if app is None:
            return
        try:
            app.close()
        except Exception:
            log.exception("closing the state database failed")

    def _after_cycle(self, results: list[CycleResult]) -> None:
        """Alarm on repeated auth failures, update metrics and systemd's status line."""
        self._watch_auth(results)
        try:
            if self.app is not None:
                shops = [s.id for s in self.config.tiktok.shops]
                calls = self.app.dealpos.stats.by_outcome
                self.metrics.observe(results, self.app.store, shops, calls)
            else:
                self.metrics.observe_results(results)
        except Exception:
            log.exception("updating metrics failed")
        notify(f"STATUS={status_line(results, self.cycles)}")

    def _watch_auth(self, results: Sequence[CycleResult]) -> None:
        for result in results:
            if result.status in ("busy", "stopped"):
                continue  # says nothing about the credentials either way
            shop = result.shop_id
            before = self.auth_failures[shop]
            self.auth_failures[shop] = before + 1 if is_auth_failure(result) else 0
            self.metrics.set_auth_failures(shop, self.auth_failures[shop])
            self._report_auth(result, before)

    def _report_auth(self, result: CycleResult, before: int) -> None:
        count = self.auth_failures[result.shop_id]
        if count and count % AUTH_FAILURES_BEFORE_ALARM == 0:
            log.critical(
                "authentication keeps failing: check the credentials and the app's authorization",
                shop_id=result.shop_id,
                cycles_in_a_row=count,
                error=result.error,
            )
        elif count == 0 and before >= AUTH_FAILURES_BEFORE_ALARM:
            log.info("authentication works again", shop_id=result.shop_id, after_cycles=before)

    # -- the main thread -----------------------------------------------------------------------

    def request_stop(self, signum: int, frame: FrameType | None = None) -> None:
        """Signal handler: only set flags; a thread does the rest."""
        # No locks and no logging here: the main thread may be holding them when interrupted.
        if self.stop.is_set():
            self.force.set()
            return
        self.signal_name = signal.Signals(signum).name
        self.stop.set()

    def _wait_for_stop(self) -> None:
        """Main thread: wait for a stop request, then shut the scheduler down."""
        # Short waits, not one long one: a signal delivered to another thread is only handled
        # when this thread runs again.
        while not self.stop.wait(STOP_POLL_SECONDS):
            pass
        notify("STOPPING=1")
        log.info(
            "stop requested; letting the current page or action finish", signal=self.signal_name
        )
        self.scheduler.shutdown(wait=False)

    def _on_scheduler_started(self, event: SchedulerEvent) -> None:
        # A listener, not a call after start(): it runs inside start(), before the scheduler's
        # thread exists, so READY=1 always comes before the first cycle's WATCHDOG=1.
        notify("READY=1")

    def _schedule(self) -> None:
        sched = self.config.schedule
        self.scheduler.add_job(
            self.cycle,
            "interval",
            seconds=sched.interval_seconds,
            jitter=sched.jitter or None,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(MIN_MISFIRE_GRACE_SECONDS, sched.interval_seconds),
            next_run_time=datetime.now(UTC),
            id="cycle",
        )
        self.scheduler.add_listener(self._on_scheduler_started, EVENT_SCHEDULER_STARTED)

    def run(self) -> int:
        """Schedule the cycle (first one now) and block until stopped; returns the exit code."""
        self._schedule()
        # The page first: a port already taken stops the start here, before anything else runs.
        self.web = start_web_if_configured(self.config)
        previous = self._install_signals()
        self.server = start_server_if_configured(self.config, self.metrics)
        self._start_webhooks()
        self.watchdog.start()
        log.info(
            "daemon started",
            interval_seconds=self.config.schedule.interval_seconds,
            shops=[s.id for s in self.config.tiktok.shops],
        )
        try:
            if not self.stop.is_set():
                self.scheduler.start()  # the cycle runs on the scheduler's worker thread
                self._wait_for_stop()
            return self._finish()  # our handlers stay on meanwhile: a second signal forces
        finally:
            self._restore_signals(previous)

    def _start_webhooks(self) -> None:
        """With `[webhook] listen`: the receiver, and the worker it wakes."""
        if self.config.webhook.listen is None:
            return
        self.worker = InboxWorker(self.webhook_round, self.stop)
        self.receiver = start_receiver(self.config, self.worker.wake)
        if self.receiver is not None:
            self.receiver.inbox.observers.append(self.metrics.observe_delivery)
        self.worker.start()  # even without a receiver: notifications a killed run left

    def _stop_webhooks(self) -> None:
        if self.receiver is not None:
            self.receiver.stop()
        if self.worker is not None:
            self.worker.join(timeout=1.0)  # a round in progress is waited for through `busy`

    def _install_signals(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}  # tests may run the daemon on a thread; they call request_stop directly
        previous: dict[int, Any] = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, self.request_stop)
        return previous

    def _restore_signals(self, previous: dict[int, Any]) -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    def _finish(self) -> int:
        """Give a running cycle a bounded time to reach a safe point, then close everything."""
        self.watchdog.stop()
        self._stop_webhooks()
        finished = self._wait_for_cycle()
        if self.server is not None:
            self.server.stop()
        if self.web is not None:
            self.web.stop()
        if not finished:
            # The state stays safe: an action cut off mid-call is looked up before it is repeated.
            self.abandoned = True
            log.error("the cycle did not stop in time; exiting without it")
            return self._exit_code()
        try:
            self._discard_app()
        finally:
            self.busy.release()
        log.info("daemon stopped", cycles=self.cycles)
        return self._exit_code()

    def _exit_code(self) -> int:
        """0 on a clean stop; the StateError's code when the state file could not be used."""
        return 0 if self.fatal is None else self.fatal.exit_code

    def _wait_for_cycle(self) -> bool:
        """Acquire the cycle lock within the grace time (a second signal gives up at once)."""
        deadline = self.monotonic() + STOP_GRACE_SECONDS
        while not self.busy.acquire(timeout=0.1):
            if self.force.is_set() or self.monotonic() >= deadline:
                return False
        return True


def status_line(results: Sequence[CycleResult], cycles: int) -> str:
    """One line for `systemctl status`: the cycle number and each shop's outcome."""
    if not results:
        return f"cycle {cycles}: no shop ran (see the log)"
    shops = ", ".join(f"{r.shop_id} {r.status}" for r in results)
    return f"cycle {cycles}: {shops}"


def run_daemon(config: Config) -> int:
    """Run the daemon until SIGTERM/SIGINT; 0 on a clean stop, 1 (2) on an unusable state file."""
    daemon = Daemon(config)
    code = daemon.run()
    if daemon.abandoned:
        # The stuck worker thread would block the interpreter's exit (it joins pool threads).
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
