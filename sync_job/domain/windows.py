"""Which time windows a run reads from TikTok (flow.md §4). Pure."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sync_job.domain.model import Window

# The two streams a shop is read by, each with its own cursor.
STREAMS = ("orders", "returns")


@dataclass(frozen=True)
class WindowRules:
    """The cursor rules from `[sync]`."""

    overlap: int
    lag: int
    max_window: int
    initial_lookback: int


def cursor_windows(cursor: int | None, now: int, rules: WindowRules) -> Iterator[Window]:
    """Windows from the cursor (minus the overlap) up to now - lag, each at most max_window long.

    The overlap is re-read once per run, by the first window; a first run (no cursor) starts at
    now - initial_lookback. A clock that stepped backwards yields nothing rather than going back.
    """
    limit = now - rules.lag
    if cursor is None:
        start = end = now - rules.initial_lookback
    else:
        start, end = cursor - rules.overlap, cursor
    while True:
        stop = min(end + rules.max_window, limit)
        if stop <= start:
            return
        yield Window(start, stop)
        if stop >= limit:
            return
        start = end = stop


def range_windows(start: int, end: int, max_window: int) -> Iterator[Window]:
    """Split [start, end) into consecutive windows of at most max_window seconds."""
    while start < end:
        stop = min(start + max_window, end)
        yield Window(start, stop)
        start = stop


def day_bounds(first: date, last: date | None, tz: ZoneInfo, now: int) -> tuple[int, int]:
    """[start of `first`, start of the day after `last`) in `tz` as Unix seconds; open end = now."""
    start = int(datetime.combine(first, time.min, tz).timestamp())
    if last is None:
        return start, now
    end = int(datetime.combine(last + timedelta(days=1), time.min, tz).timestamp())
    return start, min(end, now)
