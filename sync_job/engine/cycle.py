"""One run for one shop: windows → fetch → record (plan) → push → advance cursors.

Used by `once`, `backfill` and the daemon alike; the differences are the windows (cursor or a
date range), the mode (real-time or download) and whether anything may be changed (dry run).
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from sync_job.domain.errors import AuthError, RemoteError, Stopped
from sync_job.domain.flow import Mode
from sync_job.domain.model import Window
from sync_job.domain.windows import WindowRules, cursor_windows
from sync_job.engine.budget import BudgetSpent, RunBudget
from sync_job.engine.plan import PlannedChange
from sync_job.engine.ports import DealposApi
from sync_job.engine.progress import NullProgress, Progress
from sync_job.engine.push import DrainControl, drain
from sync_job.engine.push_types import PushDeps, PushTally
from sync_job.engine.recent import RecentOrders
from sync_job.engine.record import PageTally, record_orders, record_returns
from sync_job.engine.shop import ShopContext
from sync_job.net.retrying import RetryConfig
from sync_job.state.dryrun import RolledBackStore
from sync_job.state.locks import LockBusy, ShopLock
from sync_job.state.store import Store
from sync_job.tiktok.client import Page

log = structlog.get_logger(__name__)

RENEW_EVERY_SECONDS = 5.0  # push heartbeat: far below the lock's lease


class TikTokApi(Protocol):
    """The TikTok calls a cycle makes (sync_job.tiktok.client.TikTokClient)."""

    def iter_orders(self, shop_cipher: str, window: Window) -> Iterator[Page]: ...
    def iter_returns(self, shop_cipher: str, window: Window) -> Iterator[Page]: ...
    def fetch_orders(self, shop_cipher: str, ids: Sequence[str]) -> list[dict[str, Any]]: ...


@dataclass
class CycleResult:
    """How one shop's run ended and what it did."""

    shop_id: str
    run_id: str
    mode: Mode
    status: str = "ok"  # ok | failed | busy | stopped
    error: str | None = None
    error_kind: str | None = None  # the exception class, e.g. AuthError
    record: PageTally = field(default_factory=PageTally)
    push: PushTally = field(default_factory=PushTally)
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def plans(self) -> list[PlannedChange]:
        """The planned changes (kept only in dry runs)."""
        return self.record.plans


@dataclass
class CycleDeps:
    """What a cycle talks to; built once per process (see app.py)."""

    store: Store
    tiktok: TikTokApi
    dealpos: DealposApi
    rules: WindowRules
    # How long a create DealPOS does not show may still land (config: DealposConfig).
    create_settle_seconds: float
    retry: RetryConfig = field(default_factory=RetryConfig)
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    should_stop: Callable[[], bool] = lambda: False
    dealpos_stats: Callable[[], tuple[int, int]] = lambda: (0, 0)  # (calls, 429s) so far
    progress: Progress = field(default_factory=NullProgress)
    budget: RunBudget = field(default_factory=RunBudget)  # none unless the caller sets one


def new_run_id() -> str:
    """A short unique id for a run (bound into every log line of the run)."""
    return uuid.uuid4().hex[:12]


class Cycle:
    """One shop's run."""

    def __init__(
        self,
        deps: CycleDeps,
        shop: ShopContext,
        *,
        dry_run: bool = False,
        range_windows: dict[str, list[Window]] | None = None,
        push: bool = True,
    ) -> None:
        self.deps = deps
        self.shop = shop
        self.dry_run = dry_run
        # `verify --refresh` only records: its plans wait in the outbox for the next real run.
        self.push = push
        # A backfill reads a fixed range and leaves the daemon's cursors alone.
        self.range_windows = range_windows
        self.result = CycleResult(shop.shop_id, new_run_id(), shop.mode)
        self.result.record.keep_plans = dry_run
        self.recent = RecentOrders()  # parsed while recording, read again by this run's push

    def run(self) -> CycleResult:
        """Run the cycle; never raises for remote trouble (the result says what happened)."""
        structlog.contextvars.bind_contextvars(run_id=self.result.run_id, shop_id=self.shop.shop_id)
        self._started = time.monotonic()
        self._calls_before = self.deps.dealpos_stats()
        try:
            if self.dry_run:
                self._dry_run()
            else:
                self._locked_run()
        finally:
            structlog.contextvars.unbind_contextvars("run_id", "shop_id")
        return self.result

    def _dry_run(self) -> None:
        store = RolledBackStore(self.deps.store)  # plans page by page, commits nothing
        try:
            self._fetch_all(store)
        except BudgetSpent as exc:
            self._budget_spent(exc)
        except (RemoteError, Stopped) as exc:
            self._fail(exc)
        except Exception as exc:  # a bug or an unclassified error: contained to this shop
            self._crashed(self.deps.store, exc)
        finally:
            self._summarise(None)
            store.close()

    def _take_lock(self, store: Store) -> ShopLock | None:
        """The shop's lease for this run; None (the run is "busy") when another run holds it."""
        owner = f"{self.shop.mode}:{self.result.run_id}"
        lock = ShopLock(store, self.shop.shop_id, owner, clock=self.deps.clock)
        try:
            lock.acquire()
        except LockBusy as exc:
            self.result.status, self.result.error = "busy", str(exc)
            log.warning("another run holds this shop, skipping", reason=str(exc))
            return None
        return lock

    def _locked_run(self) -> None:
        store = self.deps.store
        lock = self._take_lock(store)
        if lock is None:
            return
        store.start_run(self.result.run_id, self.shop.shop_id, self.shop.mode)
        try:
            self._fetch_all(store, heartbeat=lock.renew)
            if self.push:
                self._push(store, lock)
            if self.deps.should_stop():  # the push ended early for a stop: not a finished run
                raise Stopped("stop requested")
            self.deps.budget.check()
        except BudgetSpent as exc:
            self._budget_spent(exc)
        except (RemoteError, Stopped, LockBusy) as exc:
            self._fail(exc)
        except Exception as exc:  # a bug or an unclassified error: contained to this shop
            self._crashed(store, exc)
        finally:
            self._summarise(store)
            self._record_end(store, lock)

    def _crashed(self, store: Store, exc: Exception) -> None:
        """Contain a bug to this shop; a state file that cannot be used stops every shop."""
        problem = store.explain(exc)
        if problem is not None:
            self._fail(problem)
            raise problem from None  # the command (or daemon) says so and exits non-zero
        log.exception("cycle crashed")
        self._fail(exc)

    def _record_end(self, store: Store, lock: ShopLock) -> None:
        """Record how the run ended, then give the lease back even if recording failed."""
        try:
            store.finish_run(
                self.result.run_id, self.result.status, self.result.counts, self.result.error
            )
        except Exception as exc:  # e.g. the disk is full: the run's work is already committed
            log.error("could not record the end of the run; releasing the lease", error=str(exc))
            self.result.status = "failed"
            self.result.error = f"could not record the end of the run: {exc}"
        try:
            lock.release()
        except Exception as exc:
            log.error(
                "could not release the lease; it lapses by itself",
                error=str(exc),
                lease_seconds=lock.lease_seconds,
            )

    def _push(self, store: Store, lock: ShopLock) -> None:
        progress = self.deps.progress
        counts = store.outbox_counts(self.shop.shop_id)
        progress.phase("push to DealPOS", counts["pending"] + counts["in_flight"], "call")
        try:
            deps = PushDeps(store, self.deps.dealpos, self.shop, self.deps.create_settle_seconds)
            control = DrainControl(
                retry=self.deps.retry,
                sleep=self.deps.sleep,
                should_stop=lambda: self.deps.should_stop() or self.deps.budget.spent(),
                heartbeat=_push_heartbeat(lock, progress),
                recent=self.recent,
            )
            self.result.push = drain(deps, control)
        finally:
            progress.close()
        if self.result.push.config_refused is not None:  # the run fails: exit 1, config named
            raise self.result.push.config_refused

    def _budget_spent(self, exc: BudgetSpent) -> None:
        """Out of time is not a failure: what is left stays pending for the next run."""
        log.warning("run budget spent; stopped pushing, the rest stays pending", reason=str(exc))

    def _fail(self, exc: Exception) -> None:
        self.result.status = "stopped" if isinstance(exc, Stopped) else "failed"
        self.result.error = str(exc)
        self.result.error_kind = type(exc).__name__
        level = "error" if isinstance(exc, AuthError) else "warning"
        getattr(log, level)("cycle ended early", error=str(exc), kind=type(exc).__name__)

    def _windows(self, store: Store, stream: str) -> Iterable[Window]:
        if self.range_windows is not None:
            return self.range_windows[stream]
        cursor = store.get_cursor(self.shop.shop_id, stream)
        return cursor_windows(cursor, int(self.deps.clock()), self.deps.rules)

    def _fetch_all(self, store: Store, heartbeat: Callable[[], None] = lambda: None) -> None:
        tt, cipher = self.deps.tiktok, self.shop.cipher
        self._fetch_stream(
            store,
            "orders",
            tt.iter_orders,
            lambda items: record_orders(store, self.shop, items, self.recent),
            heartbeat,
        )
        fetch_missing = lambda ids: tt.fetch_orders(cipher, ids)  # noqa: E731
        self._fetch_stream(
            store,
            "returns",
            tt.iter_returns,
            lambda items: record_returns(store, self.shop, items, fetch_missing, self.recent),
            heartbeat,
        )

    def _fetch_stream(
        self,
        store: Store,
        stream: str,
        pages: Callable[[str, Window], Iterator[Page]],
        record: Callable[[list[dict[str, Any]]], PageTally],
        heartbeat: Callable[[], None],
    ) -> None:
        """Read every window of a stream; the cursor moves only after a whole window is recorded."""
        windows = list(self._windows(store, stream))
        progress = self.deps.progress
        progress.phase(f"fetch {stream}", len(windows), "window")
        try:
            for window in windows:
                self._record_window(pages(self.shop.cipher, window), record, heartbeat)
                if self.range_windows is None and not self.dry_run:
                    with store.transaction("advance cursor"):  # on disk before the next window
                        store.advance_cursor(self.shop.shop_id, stream, window.end)
                progress.advance(1)
                log.debug("window done", stream=stream, start=window.start, end=window.end)
        finally:
            progress.close()

    def _record_window(
        self,
        pages: Iterator[Page],
        record: Callable[[list[dict[str, Any]]], PageTally],
        heartbeat: Callable[[], None],
    ) -> None:
        """Record a window's pages one by one; a stop or a spent budget ends it between pages."""
        tally = self.result.record
        for page in pages:
            tally.add(record(page.items))
            heartbeat()
            self.deps.progress.advance(
                0, fetched=tally.fetched + tally.returns, changed=tally.changed
            )
            if self.deps.should_stop():
                raise Stopped("stop requested")
            self.deps.budget.check()

    def _counts(self, store: Store) -> dict[str, Any]:
        rec, push = self.result.record, self.result.push
        outbox = store.outbox_counts(self.shop.shop_id)
        return {
            "fetched": rec.fetched,
            "returns": rec.returns,
            "changed": rec.changed,
            "stale": rec.stale,
            "created": push.created,
            "sent": push.sent,
            "paid": push.paid,
            "recycled": push.recycled,
            "adopted": push.adopted,
            "lookups": push.lookups,
            "quarantined": rec.bad + push.quarantined,
            "pending": outbox["pending"] + outbox["in_flight"],
        }

    def _summarise(self, store: Store | None) -> None:
        calls, limited = self.deps.dealpos_stats()
        counts: dict[str, Any] = {"fetched": self.result.record.fetched}
        if store is not None:
            try:
                counts = self._counts(store)
            except sqlite3.Error as exc:  # the state file failed us: summarise what is known
                log.error("could not count the outbox for the summary", error=str(exc))
        counts.update(
            dealpos_calls=calls - self._calls_before[0],
            rate_limited=limited - self._calls_before[1],
            duration_s=round(time.monotonic() - self._started, 3),
        )
        self.result.counts = counts
        log.info("cycle finished", status=self.result.status, mode=self.shop.mode, **counts)


def _push_heartbeat(lock: ShopLock, progress: Progress) -> Callable[[], None]:
    """Called after every action: advance the progress bar, renew the shop's lease now and then."""
    renewed = time.monotonic()

    def heartbeat() -> None:
        # Renewing is a write transaction: once per action would cost a commit per call,
        # while the lease only needs renewing well within LEASE_SECONDS.
        nonlocal renewed
        if time.monotonic() - renewed >= RENEW_EVERY_SECONDS:
            lock.renew()
            renewed = time.monotonic()
        progress.advance(1)

    return heartbeat
