"""systemd's sd_notify protocol and a progress-gated watchdog; both no-ops outside systemd.

A dozen lines of standard library do what the unmaintained `sdnotify` package does.

The watchdog pings only while the daemon shows signs of life: the running cycle pings as it
makes progress (between pages, between DealPOS actions, during paced waits), and a small thread
pings between cycles while the scheduler keeps starting them on time. A cycle stuck in one call
therefore stops the pings, and systemd restarts the service after `WatchdogSec=`; a thread that
pinged unconditionally would keep a hung daemon "healthy" forever.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

__all__ = ["Watchdog", "notify", "watchdog_timeout"]

SEND_TIMEOUT_SECONDS = 1.0


def notify(
    message: str, *, env: Mapping[str, str] | None = None, timeout: float = SEND_TIMEOUT_SECONDS
) -> bool:
    """Send e.g. READY=1, WATCHDOG=1 or STOPPING=1; True when a socket was there to receive it."""
    address = (env if env is not None else os.environ).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        # A receiver that stopped reading fills its queue (10 datagrams by default), and then a
        # send blocks: a lost ping is better than a stop or watchdog thread hung for good.
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            sock.sendall(message.encode())
        except OSError:
            return False
    return True


def watchdog_timeout(env: Mapping[str, str] | None = None) -> float | None:
    """The watchdog timeout systemd set for this process, in seconds; None when there is none."""
    env = os.environ if env is None else env
    pid = env.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None  # meant for another process (e.g. our parent shell)
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 1_000_000 if usec > 0 else None


class Watchdog:
    """Pings WATCHDOG=1 at most every timeout/4, and only while there are signs of life."""

    def __init__(
        self,
        timeout: float | None,
        *,
        idle_limit: float,
        clock: Callable[[], float] = time.monotonic,
        send: Callable[[str], bool] = notify,
    ) -> None:
        self.timeout = timeout
        # Four pings per timeout: one lost or late ping never gets a healthy daemon killed.
        self.period = timeout / 4 if timeout else math.inf
        self.idle_limit = idle_limit
        self.clock = clock
        self.send = send
        self.busy = False
        self.last_activity = clock()
        self._last_ping = -math.inf
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def _ping(self, now: float) -> None:
        with self._lock:
            if now - self._last_ping < self.period:
                return
            self._last_ping = now
        self.send("WATCHDOG=1")

    def beat(self) -> None:
        """Record progress of the running cycle, pinging when the last ping is old enough."""
        now = self.clock()
        self.last_activity = now
        if self.timeout:
            self._ping(now)

    def cycle_started(self) -> None:
        """A cycle begins: from now on only its own progress keeps the pings going."""
        self.busy = True
        self.beat()

    def cycle_finished(self) -> None:
        """A cycle ended: between cycles the idle thread pings."""
        self.busy = False
        self.beat()

    def idle_tick(self) -> bool:
        """Ping if no cycle runs and the last one ended recently enough; True when healthy."""
        now = self.clock()
        healthy = not self.busy and now - self.last_activity < self.idle_limit
        if healthy and self.timeout:
            self._ping(now)
        return healthy

    def start(self) -> None:
        """Start the idle thread (only under a systemd watchdog)."""
        if not self.timeout or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="sync-job-watchdog", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._halt.wait(self.period):
            self.idle_tick()

    def stop(self) -> None:
        """Stop the idle thread."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
