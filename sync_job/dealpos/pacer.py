"""Pace DealPOS calls so the tenant's quota (calls per fixed window, all endpoints) always holds.

The pacer keeps the completion times of our own calls and lets a call start only while fewer than
`limit` calls completed (or are still in flight) within the last `window_seconds`. DealPOS counts a
call when it arrives, which is between our start and our completion; so if no sliding window of
completions ever holds more than `limit`, no fixed window of arrivals can either, whatever its
alignment. On top of that, the server's own view (`RateLimit-Remaining`, `Retry-After`) holds all
calls when other clients share the quota.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Protocol

from sync_job.net.headers import header, parse_retry_after

__all__ = ["Pacer"]

# A hold longer than this many windows means a broken header, not a real quota reset: a fixed
# window always resets within one window, so two is generous and keeps a daemon from freezing.
_MAX_HOLD_WINDOWS = 2.0
# Floor for the cap above when the window is tiny or unset (limit off in benchmarks).
_MIN_HOLD_CAP_SECONDS = 60.0


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return None if math.isnan(number) or number < 0 else number


class SharedLog(Protocol):
    """The tenant's calls as every process sharing the state file sees them (state/quota.py)."""

    def reserve(self) -> tuple[int | None, float]:
        """(reservation, 0) when a call may start now; else (None, seconds to wait first)."""
        ...

    def complete(self, reservation: int | None, hold_seconds: float | None) -> None:
        """The reserved call ended now; `hold_seconds`: a hold the server imposed, to share."""
        ...


class Pacer:
    """Blocks each DealPOS call until it may start without exceeding the quota.

    Pair every `wait_turn()` with exactly one `record()` when that call ends: `wait_turn` reserves
    a slot that only `record` releases, which keeps one pacer safe to share between threads.
    """

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
        shared: SharedLog | None = None,
    ) -> None:
        self.limit = limit
        self.window = float(window_seconds)
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock  # only to read HTTP-date Retry-After values
        self._completions: deque[float] = deque()
        self._in_flight = 0
        self._hold_until = -math.inf
        self._lock = threading.Lock()
        # Other processes on the same state file spend the same quota: ask their shared log too.
        self._shared = shared if limit > 0 else None
        self._reservations: deque[int | None] = deque()

    @property
    def max_hold(self) -> float:
        """Longest hold any header may impose, in seconds."""
        return max(_MAX_HOLD_WINDOWS * self.window, _MIN_HOLD_CAP_SECONDS)

    def wait_turn(self) -> float:
        """Block until a call may start, reserve its slot, and return the seconds waited."""
        start = self._clock()
        while True:
            with self._lock:
                delay = self._delay(self._clock())
                if delay <= 0 and self._shared is not None:
                    reservation, delay = self._shared.reserve()
                    if delay <= 0:
                        self._reservations.append(reservation)
                if delay <= 0:
                    self._in_flight += 1
                    return self._clock() - start
            self._sleep(delay)  # never sleep holding the lock: other threads must record

    def record(
        self,
        headers: Mapping[str, str] | None,
        status: int | None,
        *,
        retry_after: float | None = None,
    ) -> None:
        """Note that a call completed (status None: no answer) and read its rate-limit headers.

        `retry_after` is a wait the caller found elsewhere (a 429 body); it wins over the headers.
        """
        with self._lock:
            now = self._clock()
            self._in_flight = max(self._in_flight - 1, 0)
            # Every completion counts, even a failed one: it may have reached the server.
            self._completions.append(now)
            hold = self._hold_from(headers, status, retry_after)
            if hold is not None:
                hold = min(hold, self.max_hold)
                self._hold_until = max(self._hold_until, now + hold)
            if self._shared is not None:
                reservation = self._reservations.popleft() if self._reservations else None
                self._shared.complete(reservation, hold)

    def _delay(self, now: float) -> float:
        hold = self._hold_until - now
        if self.limit <= 0:
            return hold
        while self._completions and self._completions[0] <= now - self.window:
            self._completions.popleft()
        used = len(self._completions) + self._in_flight
        if used < self.limit:
            return hold
        # The call may start when enough old completions leave the window. If the slots are all
        # taken by calls still in flight, the log cannot say when: poll at the average spacing.
        index = used - self.limit
        if index >= len(self._completions):
            return max(hold, self.window / self.limit)
        return max(hold, self._completions[index] + self.window - now)

    def _hold_from(
        self, headers: Mapping[str, str] | None, status: int | None, retry_after: float | None
    ) -> float | None:
        reset = _seconds(header(headers, "RateLimit-Reset"))
        if status == 429:
            if retry_after is None:
                retry_after = parse_retry_after(
                    header(headers, "Retry-After"), now=self._wall_clock()
                )
            return next((v for v in (retry_after, reset) if v is not None), self.window)
        remaining = _seconds(header(headers, "RateLimit-Remaining"))
        if remaining is not None and remaining < 1:
            # The quota is spent (perhaps by other clients too): wait for the server's reset.
            return reset if reset is not None else self.window
        return None
