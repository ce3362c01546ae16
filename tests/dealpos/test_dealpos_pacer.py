"""Pacer: calls stay within the quota in every window, use nearly all of it, and obey the server."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from sync_job.dealpos.pacer import Pacer
from sync_job.net.headers import parse_retry_after
from tests.dealpos.dealpos_fakes import FakeClock

LIMIT, WINDOW = 20, 2.0


def make_pacer(fake: FakeClock, limit: int = LIMIT, window: float = WINDOW) -> Pacer:
    """A pacer on the fake clock."""
    return Pacer(limit, window, clock=fake.clock, sleep=fake.sleep, wall_clock=fake.wall)


def run_calls(pacer: Pacer, fake: FakeClock, n: int, latency: float) -> list[tuple[float, float]]:
    """Make `n` sequential paced calls of fixed latency; return (start, completion) times."""
    spans = []
    for _ in range(n):
        pacer.wait_turn()
        start = fake.now
        fake.advance(latency)
        pacer.record({}, 200)
        spans.append((start, fake.now))
    return spans


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of `times` inside any half-open window of length `window`."""
    ordered = sorted(times)
    return max(sum(1 for u in ordered if t - window < u <= t) for t in ordered)


def test_200_calls_take_about_ten_windows_and_no_window_exceeds_the_limit(fake: FakeClock) -> None:
    """200 calls at 20 per 2 s finish in about 10 windows, never more than 20 in any window."""
    pacer = make_pacer(fake)
    started = fake.now
    spans = run_calls(pacer, fake, 200, latency=0.01)
    elapsed = fake.now - started
    assert 9 * WINDOW <= elapsed <= 10 * WINDOW
    assert most_in_any_window([c for _, c in spans], WINDOW) == LIMIT


@pytest.mark.parametrize("offset", [0.0, 0.003, 0.5, 1.0, 1.337, 1.999])
def test_no_fixed_window_of_any_alignment_sees_more_than_the_limit(
    fake: FakeClock, offset: float
) -> None:
    """Arrivals (between start and completion) never exceed the limit in a fixed window."""
    spans = run_calls(make_pacer(fake), fake, 200, latency=0.05)
    for arrival_share in (0.0, 0.5, 1.0):
        arrivals = [s + (c - s) * arrival_share for s, c in spans]
        buckets: dict[int, int] = {}
        for t in arrivals:
            key = int((t - offset) // WINDOW)
            buckets[key] = buckets.get(key, 0) + 1
        assert max(buckets.values()) <= LIMIT


def test_quota_use_reaches_at_least_ninety_percent_of_the_allowed_rate(fake: FakeClock) -> None:
    """With realistic latency the achieved call rate stays at or above 0.90 of the allowed rate."""
    pacer = make_pacer(fake)
    started = fake.now
    run_calls(pacer, fake, 400, latency=0.02)
    achieved = 400 / (fake.now - started)
    assert achieved / (LIMIT / WINDOW) >= 0.90


def test_no_limit_never_waits(fake: FakeClock) -> None:
    """A limit of 0 (benchmarks) lets every call start at once."""
    pacer = make_pacer(fake, limit=0)
    run_calls(pacer, fake, 500, latency=0.0)
    assert fake.sleeps == []


def test_wait_turn_returns_the_seconds_waited(fake: FakeClock) -> None:
    """wait_turn reports how long it blocked: zero when free, the window's rest when full."""
    pacer = make_pacer(fake, limit=1, window=5.0)
    assert pacer.wait_turn() == 0.0
    fake.advance(1.0)
    pacer.record(None, 200)
    assert pacer.wait_turn() == pytest.approx(5.0)


def test_a_call_in_flight_holds_its_slot(fake: FakeClock) -> None:
    """A started call counts against the limit before it completes (safe for shared pacers)."""
    pacer = make_pacer(fake, limit=1, window=5.0)
    pacer.wait_turn()
    first_sleep = True

    def complete_first_call_while_waiting(seconds: float) -> None:
        nonlocal first_sleep
        fake.sleep(seconds)
        if first_sleep:
            first_sleep = False
            pacer.record(None, 200)

    pacer._sleep = complete_first_call_while_waiting
    pacer.wait_turn()
    assert fake.sleeps[0] > 0
    assert len(fake.sleeps) >= 2  # waited for the completion, then for it to leave the window


def test_remaining_zero_holds_until_the_reset(fake: FakeClock) -> None:
    """RateLimit-Remaining 0 holds every further call until RateLimit-Reset seconds pass."""
    pacer = make_pacer(fake, limit=50, window=180.0)
    pacer.wait_turn()
    pacer.record({"RateLimit-Remaining": "0", "RateLimit-Reset": "37"}, 200)
    assert pacer.wait_turn() == pytest.approx(37.0)


def test_remaining_zero_without_reset_holds_a_whole_window(fake: FakeClock) -> None:
    """RateLimit-Remaining 0 with no reset given holds for one whole window."""
    pacer = make_pacer(fake, limit=50, window=180.0)
    pacer.wait_turn()
    pacer.record({"ratelimit-remaining": "0"}, 200)
    assert pacer.wait_turn() == pytest.approx(180.0)


def test_remaining_above_zero_does_not_hold(fake: FakeClock) -> None:
    """A positive RateLimit-Remaining leaves pacing to the pacer's own log."""
    pacer = make_pacer(fake, limit=50, window=180.0)
    pacer.wait_turn()
    pacer.record({"RateLimit-Remaining": "3", "RateLimit-Reset": "100"}, 200)
    assert pacer.wait_turn() == 0.0


def test_429_retry_after_seconds_holds_calls(fake: FakeClock) -> None:
    """A 429's Retry-After in seconds holds further calls that long."""
    pacer = make_pacer(fake, limit=50, window=180.0)
    pacer.wait_turn()
    pacer.record({"Retry-After": "12"}, 429)
    assert pacer.wait_turn() == pytest.approx(12.0)


def test_429_retry_after_http_date_holds_calls(fake: FakeClock) -> None:
    """A 429's Retry-After given as an HTTP-date holds calls until that moment."""
    pacer = make_pacer(fake, limit=50, window=180.0)
    pacer.wait_turn()
    pacer.record({"Retry-After": formatdate(fake.wall() + 30, usegmt=True)}, 429)
    assert pacer.wait_turn() == pytest.approx(30.0, abs=1.0)


def test_429_wait_from_the_caller_wins_over_headers(fake: FakeClock) -> None:
    """A wait the client read from the 429 body is used as given."""
    pacer = make_pacer(fake, limit=50, window=180.0)
    pacer.wait_turn()
    pacer.record({"RateLimit-Reset": "90"}, 429, retry_after=42.0)
    assert pacer.wait_turn() == pytest.approx(42.0)


def test_429_without_any_hint_holds_a_whole_window(fake: FakeClock) -> None:
    """A bare 429 holds for one window: a fixed window resets within that."""
    pacer = make_pacer(fake, limit=50, window=180.0)
    pacer.wait_turn()
    pacer.record(None, 429)
    assert pacer.wait_turn() == pytest.approx(180.0)


def test_absurd_holds_are_capped_at_two_windows(fake: FakeClock) -> None:
    """A broken Retry-After of a day holds for at most two windows, so a daemon never freezes."""
    pacer = make_pacer(fake, limit=50, window=180.0)
    pacer.wait_turn()
    pacer.record({"Retry-After": "86400"}, 429)
    assert pacer.wait_turn() == pytest.approx(360.0)


def test_failed_calls_still_count_against_the_limit(fake: FakeClock) -> None:
    """A call that ended without an answer still uses a slot: it may have reached DealPOS."""
    pacer = make_pacer(fake, limit=1, window=10.0)
    pacer.wait_turn()
    pacer.record(None, None)
    assert pacer.wait_turn() == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
        ("Wed, 21 Oct 2015 07:26:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    """Retry-After parses as seconds or an HTTP-date (relative to now, never negative)."""
    now = 1445412420.0  # Wed, 21 Oct 2015 07:27:00 GMT
    assert parse_retry_after(value, now=now) == expected
