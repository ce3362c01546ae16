"""Fault injection shared by both simulators: which calls fail, and how."""

from __future__ import annotations

import enum
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sync_job.sandbox.server import Request, Response


class Fault(enum.Enum):
    """What happens to one call."""

    NONE = "none"
    RATE_LIMITED = "fault_429"  # answer 429 as if over the rate limit
    SERVER_ERROR = "fault_500"  # answer 500 without doing anything
    SLOW = "slow"  # wait `slow_seconds`, then handle and answer normally
    DROPPED = "dropped"  # close the connection without doing or answering anything
    LOST_RESPONSE = "lost_response"  # writes only: apply the change, then drop the connection
    LOCKED = "fault_locked"  # queued only: a 200 whose body is an error, nothing applied


@dataclass(frozen=True)
class FaultConfig:
    """Shares (0..1) of calls that meet each fault; a seeded RNG decides per call."""

    rate_limited: float = 0.0
    server_error: float = 0.0
    slow: float = 0.0
    dropped: float = 0.0
    lost_response: float = 0.0  # counted only among write calls (DealPOS)
    slow_seconds: float = 35.0  # past a client's usual 30 s read timeout
    retry_after_seconds: int = 1  # what an injected 429 asks the client to wait
    seed: int = 0

    def __post_init__(self) -> None:
        shares = self._shares()
        if any(not 0.0 <= s <= 1.0 for s in shares.values()):
            raise ValueError(f"fault shares must lie in [0, 1]: {shares}")
        if sum(shares.values()) > 1.0:
            raise ValueError(f"fault shares add up to more than 1: {shares}")
        if self.slow_seconds < 0 or self.retry_after_seconds < 0:
            raise ValueError("slow_seconds and retry_after_seconds must not be negative")

    def _shares(self) -> dict[Fault, float]:
        return {
            Fault.RATE_LIMITED: self.rate_limited,
            Fault.SERVER_ERROR: self.server_error,
            Fault.SLOW: self.slow,
            Fault.DROPPED: self.dropped,
            Fault.LOST_RESPONSE: self.lost_response,
        }

    def pick(self, roll: float, *, write: bool) -> Fault:
        """Map a uniform roll in [0, 1) to a fault; LOST_RESPONSE only for writes."""
        edge = 0.0
        for fault, share in self._shares().items():
            edge += share
            if roll < edge:
                return Fault.NONE if fault is Fault.LOST_RESPONSE and not write else fault
        return Fault.NONE


@dataclass
class _Queued:
    fault: Fault
    remaining: int
    endpoint: str | None


class FaultInjector:
    """Decides the fault of each call: queued faults first, then the configured shares."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._queue: deque[_Queued] = deque()
        self.configure(config or FaultConfig())

    @property
    def config(self) -> FaultConfig:
        """The current configuration."""
        return self._config

    def configure(self, config: FaultConfig) -> None:
        """Switch to a new configuration (and restart its RNG from its seed)."""
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)

    def queue(self, fault: Fault, *, times: int = 1, endpoint: str | None = None) -> None:
        """Force `fault` on the next `times` calls (to `endpoint`, e.g. "POST /api/v3/Invoice")."""
        with self._lock:
            self._queue.append(_Queued(fault, times, endpoint))

    def draw(self, request: Request, *, write: bool) -> Fault:
        """Decide the fault for this call."""
        with self._lock:
            for item in self._queue:
                if item.endpoint in (None, request.endpoint):
                    item.remaining -= 1
                    if item.remaining <= 0:
                        self._queue.remove(item)
                    return item.fault
            # Always roll, so one call's kind (write or not) never shifts later decisions.
            return self._config.pick(self._rng.random(), write=write)


def apply_fault(
    fault: Fault,
    answer: Callable[[], Response],
    refuse: Callable[[Fault], Response],
    stopping: threading.Event,
    slow_seconds: float,
) -> Response | None:
    """Run `answer` under `fault`; None means "drop the connection unanswered"."""
    if fault in (Fault.RATE_LIMITED, Fault.SERVER_ERROR, Fault.LOCKED):
        return refuse(fault)
    if fault is Fault.DROPPED:
        return None
    if fault is Fault.SLOW and stopping.wait(slow_seconds):
        return None  # the server is stopping: give up without applying anything
    response = answer()
    return None if fault is Fault.LOST_RESPONSE else response


def outcome_name(fault: Fault, response: Response | None) -> str:
    """Name a call's outcome for the call counts: the HTTP status, or the fault that ate it."""
    if response is None:
        return fault.value if fault is not Fault.NONE else "dropped"
    if fault is Fault.SLOW:
        return f"{response.status} (slow)"
    return str(response.status)
