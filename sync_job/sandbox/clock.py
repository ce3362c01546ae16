"""A hand-moved clock for tests: simulators and the generator accept any `() -> float`."""

from __future__ import annotations

import threading


class ManualClock:
    """Returns a time that only moves when told to."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._lock = threading.Lock()
        self._now = start

    def __call__(self) -> float:
        """The current time."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds`; return the new time."""
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, now: float) -> None:
        """Jump to `now` (backwards too, to simulate a skewed peer)."""
        with self._lock:
            self._now = now
