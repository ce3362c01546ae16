"""The daemon's inbox worker: runs the webhook trigger soon after a notification is stored.

A stored notification wakes it; it waits until the deliveries stop coming for a moment (at most
`longest_gather` seconds) so a burst becomes one round with full 50-id detail calls, then runs one
round. Without a wake it still looks every `idle_poll` seconds, for notifications left by a busy
shop, a failed round or a process that was killed before working them off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)

QUIET_SECONDS = 0.2
LONGEST_GATHER_SECONDS = 1.0
IDLE_POLL_SECONDS = 5.0


class InboxWorker:
    """A thread that calls `run_round` when woken (or now and then) until `stop` is set."""

    def __init__(
        self,
        run_round: Callable[[], None],
        stop: threading.Event,
        *,
        quiet: float = QUIET_SECONDS,
        longest_gather: float = LONGEST_GATHER_SECONDS,
        idle_poll: float = IDLE_POLL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.run_round = run_round
        self.stop = stop
        self.quiet, self.longest_gather, self.idle_poll = quiet, longest_gather, idle_poll
        self.monotonic = monotonic
        self._wake = threading.Event()
        self._wake.set()  # the first look is at once: notifications a killed process left
        self.thread = threading.Thread(target=self._loop, name="sync-webhooks", daemon=True)

    def wake(self) -> None:
        """A notification was stored (called on the receiver's threads; only sets a flag)."""
        self._wake.set()

    def start(self) -> InboxWorker:
        """Start the thread."""
        self.thread.start()
        return self

    def join(self, timeout: float) -> None:
        """Wait for the thread to end (after `stop` is set)."""
        self._wake.set()
        self.thread.join(timeout)

    def _loop(self) -> None:
        while not self.stop.is_set():
            self._wake.wait(self.idle_poll)
            if self.stop.is_set():
                return
            self._gather()
            try:
                self.run_round()
            except Exception:  # the daemon lives on; the notifications wait for the next round
                log.exception("webhook round crashed")

    def _gather(self) -> None:
        """Let a burst of deliveries finish arriving (bounded), then start."""
        first = self.monotonic()
        self._wake.clear()
        while self.monotonic() - first < self.longest_gather and not self.stop.is_set():
            if not self._wake.wait(self.quiet):
                return
            self._wake.clear()
