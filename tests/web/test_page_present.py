"""How the page writes money, times and the hourly chart."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from sync_job.service.web.present import age, build_chart, duration, local_time, money

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        ("359900", "IDR", "Rp 359.900"),
        (Decimal("1250000.00"), "IDR", "Rp 1.250.000"),
        ("0", "IDR", "Rp 0"),
        ("-15000", "IDR", "-Rp 15.000"),
        ("1234.5", "MYR", "RM 1,234.50"),
        ("99", "XYZ", "XYZ 99.00"),
        ("359900", None, "Rp 359.900"),
        (None, "IDR", "—"),
        ("not a number", "IDR", "—"),
    ],
)
def test_money_as_merchants_write_it(amount: object, currency: str | None, shown: str) -> None:
    """IDR with dots and no decimals; other currencies in their own style."""
    assert money(amount, currency) == shown  # type: ignore[arg-type]


def test_times_are_local_and_short() -> None:
    """Today: HH:MM in the shop's zone; other days get the date; garbage is a dash."""
    assert local_time("2026-11-30T09:05:00+00:00", JAKARTA, NOW) == "16:05"
    assert local_time("2026-11-28T09:05:00+00:00", JAKARTA, NOW) == "28 Nov 16:05"
    assert local_time(int(NOW) - 3600, JAKARTA, NOW) == "16:00"
    assert local_time("yesterday", JAKARTA, NOW) == "—"
    assert local_time(None, JAKARTA, NOW) == "—"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(5, "5 s"), (600, "10 min"), (3 * 3600 + 300, "3 h 5 min"), (3 * 86400, "3 d 0 h")],
)
def test_age_uses_the_largest_sensible_unit(seconds: int, shown: str) -> None:
    """Ages read like a person would say them."""
    assert age(NOW - seconds, NOW) == shown


def test_chart_scales_to_the_busiest_hour_and_places_the_quota() -> None:
    """Bars are tallest at the busiest hour; the quota line shows when it is within reach."""
    first = int(NOW) // 3600 - 47
    chart = build_chart(first, 48, {first + 47: 40}, {first + 46: 20}, 50, JAKARTA)
    assert len(chart.bars) == 48 and chart.top == 50
    assert chart.bars[47].height == max(b.height for b in chart.bars) > 0
    assert chart.quota_y is not None and chart.peak_share == 80
    assert sum(1 for t in chart.ticks if t) >= 3  # a few hour labels, not 48


def test_chart_with_the_quota_far_above_says_so() -> None:
    """A quiet shop: the axis fits the data and the quota line is left out (legend says so)."""
    first = int(NOW) // 3600 - 47
    chart = build_chart(first, 48, {first: 3}, {first: 7}, 1000, JAKARTA)
    assert chart.top == 10 and chart.quota_y is None and chart.peak_share == 0


def test_quota_windows_read_naturally() -> None:
    """DealPOS's 180 s window is "3 min"; a test's 1 s window stays in seconds."""
    assert [duration(180), duration(1), duration(7200)] == ["3 min", "1 s", "2 h"]
