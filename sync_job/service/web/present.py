"""How the operator page writes numbers, money, times and the hourly chart for a merchant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation

__all__ = ["Chart", "age", "build_chart", "duration", "local_time", "money", "parse_time"]

# Currency -> (symbol, thousands separator, decimal separator, decimals), as shops there write it.
_CURRENCIES: dict[str, tuple[str, str, str, int]] = {
    "IDR": ("Rp", ".", ",", 0),
    "VND": ("₫", ".", ",", 0),
    "MYR": ("RM", ",", ".", 2),
    "THB": ("฿", ",", ".", 2),
    "PHP": ("₱", ",", ".", 2),
    "SGD": ("S$", ",", ".", 2),
    "USD": ("$", ",", ".", 2),
    "GBP": ("£", ",", ".", 2),
}


def money(amount: str | int | Decimal | None, currency: str | None) -> str:
    """`Rp 359.900` for IDR; other currencies in their own style; '—' when unknown."""
    if amount is None or amount == "":
        return "—"
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return "—"
    code = (currency or "IDR").upper()
    symbol, thousands, point, decimals = _CURRENCIES.get(code, (code, ",", ".", 2))
    text = f"{abs(value):,.{decimals}f}"  # "359,900" or "1,234.50"
    text = text.replace(",", "\0").replace(".", point).replace("\0", thousands)
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol} {text}"


def local_time(iso_or_ts: str | int | float | None, zone: tzinfo, now: float) -> str:
    """A stored UTC time in the shop's zone: `14:05` today, else `28 Nov 14:05`."""
    when = parse_time(iso_or_ts)
    if when is None:
        return "—"
    local, today = when.astimezone(zone), datetime.fromtimestamp(now, zone)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    if local.year == today.year:
        return local.strftime("%d %b %H:%M")
    return local.strftime("%d %b %Y")


def age(iso_or_ts: str | int | float | None, now: float) -> str:
    """How long ago, in the largest sensible unit: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`."""
    when = parse_time(iso_or_ts)
    if when is None:
        return "never"
    seconds = max(int(now - when.timestamp()), 0)
    if seconds < 120:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h {minutes % 60} min"
    return f"{hours // 24} d {hours % 24} h"


def duration(seconds: float) -> str:
    """A window length: `45 s`, `3 min`, `2 h`."""
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def parse_time(value: str | int | float | None) -> datetime | None:
    """A stored ISO-8601 text or Unix seconds as an aware datetime; None when empty or garbled."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


# -- the chart -------------------------------------------------------------------------------------

# The SVG stretches to the page's width (no text inside it, so stretching distorts nothing).
CHART_WIDTH, CHART_HEIGHT = 480, 100
_LEFT, _BOTTOM, _TOP = 0, 0, 4


@dataclass(frozen=True)
class Bar:
    """One hour's bar (DealPOS calls) and point (orders), in SVG coordinates."""

    x: float
    width: float
    y: float
    height: float
    calls: int
    orders: int
    label: str


@dataclass(frozen=True)
class Chart:
    """Everything the SVG template draws: bars, the orders line, the quota line and labels."""

    bars: list[Bar]
    orders_points: str
    top: int
    quota_per_hour: int
    quota_y: float | None  # None: the quota is far above every bar
    peak_share: int  # the busiest hour's calls as a percentage of the hourly quota
    ticks: list[str]  # one per hour: the label under that hour's bar, mostly empty
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = _LEFT
    baseline: float = CHART_HEIGHT - _BOTTOM


def build_chart(
    first_hour: int,
    hours: int,
    calls: dict[int, int],
    orders: dict[int, int],
    quota_per_hour: int,
    zone: tzinfo,
) -> Chart:
    """Lay out `hours` hourly bars starting at `first_hour` (Unix seconds // 3600)."""
    span = [first_hour + i for i in range(hours)]
    peak = max([calls.get(h, 0) for h in span] + [orders.get(h, 0) for h in span] + [1])
    # Show the quota line when it is within reach; otherwise the legend gives the share.
    top = quota_per_hour if quota_per_hour <= peak * 1.5 else _round_up(peak)
    top = max(top, peak)
    plot_h = CHART_HEIGHT - _BOTTOM - _TOP
    step = (CHART_WIDTH - _LEFT) / hours
    bars, points, ticks = [], [], []
    for i, hour in enumerate(span):
        x = _LEFT + i * step
        n_calls, n_orders = calls.get(hour, 0), orders.get(hour, 0)
        height = plot_h * n_calls / top
        local = datetime.fromtimestamp(hour * 3600, zone)
        label = local.strftime("%d %b %H:00")
        bars.append(
            Bar(x + 0.5, max(step - 1, 1), _TOP + plot_h - height, height, n_calls, n_orders, label)
        )
        points.append(f"{x + step / 2:.1f},{_TOP + plot_h - plot_h * n_orders / top:.1f}")
        label_here = local.hour % 12 == 0 and 0 < i < hours - 4
        text = local.strftime("%H:00") if local.hour else local.strftime("%d %b")
        ticks.append(text if label_here else "")
    quota_y = _TOP + plot_h - plot_h * quota_per_hour / top if quota_per_hour <= top else None
    peak_calls = max(calls.get(h, 0) for h in span)
    share = round(100 * peak_calls / quota_per_hour) if quota_per_hour else 0
    return Chart(bars, " ".join(points), top, quota_per_hour, quota_y, share, ticks)


def _round_up(value: int) -> int:
    """A round axis top at or above `value` (1, 2, 5 × 10^n)."""
    scale = 1
    while True:
        for factor in (1, 2, 5):
            if factor * scale >= value:
                return factor * scale
        scale *= 10
