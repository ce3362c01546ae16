"""A run's wall-clock budget: past it the run stops pushing and leaves the rest for the next run.

Retry-After holds and retries can each wait minutes; without a budget one `once` could outlive its
systemd unit's TimeoutStartSec and be killed with nothing to show. The budget is started when a
run begins; every wait (pacing, retries) goes through `sleep`, which refuses a wait that would end
past the deadline, and the cycle checks `spent()` between pages and between DealPOS calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sync_job.domain.errors import SyncError


class BudgetSpent(SyncError):
    """The run's wall-clock budget is spent: stop here, the rest stays pending."""


class RunBudget:
    """A deadline on the monotonic clock, started per run; None seconds means no budget."""

    def __init__(
        self,
        seconds: float | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._sleep = sleep
        self._monotonic = monotonic
        self.deadline: float | None = None

    def start(self) -> None:
        """Begin a run: the budget counts from now."""
        self.deadline = None if self.seconds is None else self._monotonic() + self.seconds

    def clear(self) -> None:
        """Run without a budget (a backfill is started by hand and may take hours)."""
        self.deadline = None

    def spent(self) -> bool:
        """True once the deadline has passed."""
        return self.deadline is not None and self._monotonic() >= self.deadline

    def check(self) -> None:
        """Raise BudgetSpent once the deadline has passed."""
        if self.spent():
            raise BudgetSpent(f"the run budget of {self.seconds:g} s is spent")

    def sleep(self, seconds: float) -> None:
        """Wait, unless the wait would end past the deadline (then raise BudgetSpent at once)."""
        if self.deadline is not None and self._monotonic() + seconds > self.deadline:
            raise BudgetSpent(
                f"a wait of {seconds:.0f} s would pass the run budget of {self.seconds:g} s"
            )
        self._sleep(seconds)
