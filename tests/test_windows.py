"""Cursor windows (flow.md §4): overlap, lag, max_window, first run, clock going backwards."""

from __future__ import annotations

import itertools
from datetime import date
from zoneinfo import ZoneInfo

from sync_job.domain.model import Window
from sync_job.domain.windows import WindowRules, cursor_windows, day_bounds, range_windows

RULES = WindowRules(overlap=7200, lag=120, max_window=86400, initial_lookback=86400)
NOW = 1_800_000_000


def test_first_run_starts_initial_lookback_ago() -> None:
    """No cursor: one window from now - initial_lookback to now - lag."""
    assert list(cursor_windows(None, NOW, RULES)) == [Window(NOW - 86400, NOW - 120)]


def test_steady_state_rereads_the_overlap() -> None:
    """A cursor c gives [c - overlap, now - lag)."""
    c = NOW - 600
    assert list(cursor_windows(c, NOW, RULES)) == [Window(c - 7200, NOW - 120)]


def test_long_gaps_split_into_max_window_pieces() -> None:
    """After downtime the range is split; only the first window carries the overlap."""
    c = NOW - 3 * 86400
    got = list(cursor_windows(c, NOW, RULES))
    assert got[0] == Window(c - 7200, c + 86400)
    assert got[1] == Window(c + 86400, c + 2 * 86400)
    assert got[-1].end == NOW - 120
    assert all(a.end == b.start for a, b in itertools.pairwise(got))
    assert all(w.end - w.start <= 86400 + 7200 for w in got)


def test_clock_stepping_back_yields_nothing() -> None:
    """A clock far behind the cursor reads nothing rather than moving backwards."""
    c = NOW
    assert list(cursor_windows(c, NOW - 10 * 3600, RULES)) == []


def test_range_windows_cover_exactly() -> None:
    """A backfill range is covered by consecutive windows without gaps or overlap."""
    got = list(range_windows(0, 200_000, 86400))
    assert got == [Window(0, 86400), Window(86400, 172800), Window(172800, 200_000)]


def test_day_bounds_are_local_days_with_inclusive_end() -> None:
    """--from/--to are calendar days in sync.timezone; --to is inclusive."""
    tz = ZoneInfo("Asia/Jakarta")
    start, end = day_bounds(date(2026, 11, 1), date(2026, 11, 2), tz, NOW)
    assert start == 1_793_466_000  # 2026-11-01T00:00+07:00
    assert end - start == 2 * 86400
