"""One DealPOS quota for every process on a state file: the call log and holds are shared, so a
daemon, a backfill and a `once` together stay within the tenant's limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync_job.dealpos.pacer import Pacer
from sync_job.state.db import NestedUnitError
from sync_job.state.quota import SharedQuota
from sync_job.state.store import Store


class Clock:
    """A shared fake clock; sleeping advances it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        """Now."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Advance instead of sleeping."""
        self.now += seconds


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A migrated state file."""
    path = tmp_path / "sync.db"
    Store.open(path).close()
    return path


def test_two_processes_count_each_others_calls_and_holds(state: Path) -> None:
    """Limit 3 per 10 s: two reservations of A and one of B fill it; a hold of A stops B too."""
    clock = Clock()
    a = SharedQuota(Store.open(state), "tenant", 3, 10, clock=clock.time)
    b = SharedQuota(Store.open(state), "tenant", 3, 10, clock=clock.time)
    other = SharedQuota(Store.open(state), "another tenant", 3, 10, clock=clock.time)
    first, second = a.reserve()[0], a.reserve()[0]
    assert b.reserve()[1] == 0 and first is not None and second is not None
    assert b.reserve() == (None, 10 / 3)  # every slot held by calls in flight: poll
    assert other.reserve()[1] == 0  # a different tenant has its own quota
    clock.now += 1
    a.complete(first, None)
    assert b.reserve() == (None, 10.0)  # A's first completion leaves the window in 10 s
    clock.now += 10
    assert b.reserve()[1] == 0
    b.complete(None, 30.0)  # a 429 asked B to hold 30 s: A holds too
    assert a.reserve() == (None, 30.0)


def test_two_pacers_on_one_state_file_never_exceed_the_limit_together(state: Path) -> None:
    """Alternating calls of two pacers: no 10 s window ever holds more than 5 of their calls."""
    clock = Clock()
    pacers = [
        Pacer(5, 10, clock=clock.time, sleep=clock.sleep, wall_clock=clock.time,
              shared=SharedQuota(Store.open(state), "tenant", 5, 10, clock=clock.time))
        for _ in range(2)
    ]  # fmt: skip
    starts: list[float] = []
    for n in range(30):
        pacer = pacers[n % 2]
        pacer.wait_turn()
        starts.append(clock.now)
        clock.now += 0.2  # the call takes a moment
        pacer.record({}, 200)
    for start in starts:
        assert sum(start <= s < start + 10 for s in starts) <= 5
    assert starts[-1] - starts[0] < 30 / 5 * 10 + 10  # and they did not wait more than needed


@pytest.mark.e2e
def test_daemon_backfill_and_once_on_one_tenant_get_no_429() -> None:
    """Three real processes, one tenant at 20 calls / 2 s: every order pushed, no 429."""
    from bench.shared_quota import measure

    got = measure(25, timeout=120)
    assert got.codes == {"backfill": 0, "once": 0, "daemon": 0}
    assert got.calls >= 3 * 25 and got.limited == 0, got


def test_over_the_limit_waits_for_as_many_completions_to_leave_as_needed(state: Path) -> None:
    """Limit 4 filled by another process (one call in flight): limit 3 waits for the 2nd oldest."""
    clock = Clock()
    wide = SharedQuota(Store.open(state), "tenant", 4, 10, clock=clock.time)
    narrow = SharedQuota(Store.open(state), "tenant", 3, 10, clock=clock.time)
    for _ in range(3):
        wide.complete(wide.reserve()[0], None)
        clock.now += 1
    assert wide.reserve()[1] == 0  # in flight: 3 done (at 1000, 1001, 1002) + 1 = 4 used
    # Two calls must leave before a 3-limit process may start: the second oldest, at 1001.
    assert narrow.reserve() == (None, 1001.0 + 10 - clock.now)


def test_a_reservation_inside_an_open_unit_of_work_is_refused(state: Path) -> None:
    """The log shares the Store's connection: a call reserved mid-unit would commit that unit."""
    store = Store.open(state)
    quota = SharedQuota(store, "tenant", 3, 10)
    with pytest.raises(NestedUnitError), store.transaction("record a page of orders"):
        quota.reserve()
    assert quota.reserve()[1] == 0  # outside any unit it goes through
