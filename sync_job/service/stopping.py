"""SIGTERM/SIGINT for the one-shot commands (`once`, `backfill`): stop like the daemon does.

The handler only sets a flag. The cycle sees it between pages and between DealPOS calls, so the
call in flight finishes and is recorded; a long pacing or retry wait ends at once (Stopped), a
short one is finished. The run is recorded as `stopped`, and the command exits 0 after SIGTERM
(a normal stop, e.g. systemd) or 130 after SIGINT (Ctrl-C, the shell's convention). A second
signal gets the default behaviour back: the way out when a call hangs.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from sync_job.domain.errors import Stopped

# A wait with at most this left when the stop comes is finished (the call after it is the one
# "in flight"); a longer one ends at once.
STOP_WAIT_LIMIT_SECONDS = 5.0
SLEEP_STEP_SECONDS = 0.2
EXIT_SIGINT = 130


class StopFlag:
    """Set by a signal; polled by the cycle; makes long waits end early."""

    def __init__(self, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._event = threading.Event()
        self._monotonic = monotonic
        self.signum: int | None = None

    def is_set(self) -> bool:
        """True once a stop was requested."""
        return self._event.is_set()

    def request(self, signum: int, frame: FrameType | None = None) -> None:
        """Signal handler: remember the signal, set the flag; a second signal acts as usual."""
        self.signum = signum
        self._event.set()
        default = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
        signal.signal(signum, default)

    def sleep(self, seconds: float) -> None:
        """Wait; a stop request ends a wait with more than STOP_WAIT_LIMIT_SECONDS left."""
        deadline = self._monotonic() + seconds
        while (left := deadline - self._monotonic()) > 0:
            if self._event.is_set():
                if left > STOP_WAIT_LIMIT_SECONDS:
                    raise Stopped("stop requested during a wait")
                time.sleep(left)
                return
            self._event.wait(min(left, SLEEP_STEP_SECONDS))

    def exit_code(self, otherwise: int) -> int:
        """0 after SIGTERM, 130 after SIGINT, `otherwise` when no stop was requested."""
        if self.signum is None:
            return otherwise
        return EXIT_SIGINT if self.signum == signal.SIGINT else 0


@contextlib.contextmanager
def stop_on_signals(flag: StopFlag) -> Iterator[StopFlag]:
    """Route SIGTERM and SIGINT to `flag` while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous: dict[int, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, flag.request)
    try:
        yield flag
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
