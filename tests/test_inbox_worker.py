"""The daemon's inbox worker: one round per burst of wakes, a first look at start, a clean stop."""

from __future__ import annotations

import threading

from sync_job.service.inbox_worker import InboxWorker


class Rounds:
    """Counts rounds and lets the test wait for the n-th one."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def __call__(self) -> None:
        with self.changed:
            self.count += 1
            self.changed.notify_all()

    def wait_for(self, n: int) -> bool:
        """True once `n` rounds ran (False after 5 s)."""
        with self.changed:
            return self.changed.wait_for(lambda: self.count >= n, timeout=5)


def test_first_round_at_start_then_one_round_per_burst() -> None:
    """Notifications a killed run left are looked at first; 20 wakes in a burst make one round."""
    rounds, stop = Rounds(), threading.Event()
    worker = InboxWorker(rounds, stop, quiet=0.05, longest_gather=1.0, idle_poll=60).start()
    try:
        assert rounds.wait_for(1)
        for _ in range(20):
            worker.wake()
        assert rounds.wait_for(2)
        assert rounds.count == 2  # not one per wake
    finally:
        stop.set()
        worker.join(2.0)
    assert not worker.thread.is_alive()


def test_a_crashing_round_does_not_end_the_worker() -> None:
    """An exception in a round is logged; the next wake runs another round."""
    calls: list[int] = []
    crashed, done = threading.Event(), threading.Event()

    def round_() -> None:
        calls.append(1)
        if len(calls) == 1:
            crashed.set()
            raise RuntimeError("boom")
        done.set()

    stop = threading.Event()
    worker = InboxWorker(round_, stop, quiet=0.01, idle_poll=60).start()
    try:
        assert crashed.wait(5)  # the first look, at start
        worker.wake()
        assert done.wait(5)
    finally:
        stop.set()
        worker.join(2.0)
