"""A fixed-window request counter, as API gateways use."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Admission:
    """The limiter's verdict on one request, with what the rate-limit headers report."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # whole seconds until the window resets (rounded up, at least 1)


class FixedWindow:
    """At most `limit` requests per `window_seconds`; a window opens at its first request."""

    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float]) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit must be >= 1 and window_seconds > 0")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._start: float | None = None
        self._used = 0

    def admit(self) -> Admission:
        """Count one request (refused ones too, as gateways do) and say whether it may pass."""
        with self._lock:
            now = self._clock()
            if self._start is None or now >= self._start + self.window_seconds:
                self._start, self._used = now, 0
            self._used += 1
            allowed = self._used <= self.limit
            reset = max(1, math.ceil(self._start + self.window_seconds - now))
            return Admission(allowed, self.limit, max(0, self.limit - self._used), reset)

    def used(self) -> int:
        """Requests counted in the current window (0 once it has run out)."""
        with self._lock:
            if self._start is None or self._clock() >= self._start + self.window_seconds:
                return 0
            return self._used
