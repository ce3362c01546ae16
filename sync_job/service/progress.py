"""Backfill progress: a tqdm bar on a terminal, periodic plain log lines otherwise.

A backfill's speed is mostly DealPOS's quota, so the push phase's ETA is the larger of what the
observed rate says and what the quota allows (remaining calls × window ÷ limit).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import structlog
from tqdm import tqdm

from sync_job.engine.progress import NullProgress, Progress

__all__ = ["NullProgress", "Progress", "make_progress"]

log = structlog.get_logger(__name__)


def quota_eta(remaining: int, done: int, elapsed: float, calls_per_second: float) -> float:
    """Seconds left: the slower of the observed pace and the pace DealPOS's quota allows."""
    observed = remaining * elapsed / done if done else 0.0
    allowed = remaining / calls_per_second if calls_per_second > 0 else 0.0
    return max(observed, allowed)


def _clock_text(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class _Phase:
    """Counters of the running phase."""

    def __init__(self, name: str, total: int | None, unit: str, now: float) -> None:
        self.name, self.total, self.unit = name, total, unit
        self.done = 0
        self.started = now
        self.figures: dict[str, int] = {}

    def eta(self, now: float, calls_per_second: float) -> float | None:
        if self.total is None:
            return None
        rate = calls_per_second if self.unit == "call" else 0.0
        return quota_eta(self.total - self.done, self.done, now - self.started, rate)


class LogProgress:
    """Plain structured log lines at most every `every` seconds (journald, files, pipes)."""

    def __init__(
        self,
        calls_per_second: float,
        *,
        every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.calls_per_second = calls_per_second
        self.every = every
        self.clock = clock
        self.current: _Phase | None = None
        self.last = 0.0

    def phase(self, name: str, total: int | None, unit: str) -> None:
        """Start a phase and log that it started."""
        self.close()
        self.current = _Phase(name, total, unit, self.clock())
        self.last = self.clock()
        log.info("backfill phase", phase=name, total=total, unit=unit)

    def advance(self, n: int = 1, **figures: int) -> None:
        """Count progress; log a line when `every` seconds passed since the last one."""
        if self.current is None:
            return
        self.current.done += n
        self.current.figures.update(figures)
        if self.clock() - self.last >= self.every:
            self._report()

    def _report(self) -> None:
        assert self.current is not None
        now = self.clock()
        self.last = now
        eta = self.current.eta(now, self.calls_per_second)
        log.info(
            "backfill progress",
            phase=self.current.name,
            done=self.current.done,
            total=self.current.total,
            eta=None if eta is None else _clock_text(eta),
            **self.current.figures,
        )

    def close(self) -> None:
        """Log the phase's final figures."""
        if self.current is not None:
            self._report()
            self.current = None


class BarProgress:
    """A tqdm bar per phase on a terminal, with the quota-aware ETA beside it."""

    def __init__(self, calls_per_second: float, *, stream: TextIO | None = None) -> None:
        self.calls_per_second = calls_per_second
        self.stream = stream or sys.stderr
        self.bar: tqdm[Any] | None = None
        self.current: _Phase | None = None

    def phase(self, name: str, total: int | None, unit: str) -> None:
        """Open a new bar."""
        self.close()
        self.current = _Phase(name, total, unit, time.monotonic())
        self.bar = tqdm(total=total, desc=name, unit=unit, file=self.stream, leave=True)

    def advance(self, n: int = 1, **figures: int) -> None:
        """Move the bar and refresh the quota ETA."""
        if self.bar is None or self.current is None:
            return
        self.current.done += n
        self.bar.update(n)
        eta = self.current.eta(time.monotonic(), self.calls_per_second)
        shown: dict[str, object] = dict(figures)
        if eta is not None and self.current.unit == "call":
            shown["quota_eta"] = _clock_text(eta)
        if shown:
            self.bar.set_postfix(shown, refresh=False)

    def close(self) -> None:
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()
        self.bar = self.current = None


def make_progress(calls_per_second: float, stream: TextIO | None = None) -> Progress:
    """A bar when the stream is a terminal, log lines otherwise."""
    out = stream or sys.stderr
    if out.isatty():
        return BarProgress(calls_per_second, stream=out)
    return LogProgress(calls_per_second)
