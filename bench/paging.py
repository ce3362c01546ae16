"""Figure 3, TikTok search calls ÷ pages strictly needed, per run (figure 1's workload).

Pages strictly needed, per window the run read (seen by the simulator: the body of each search's
first page): ceil(items whose update_time falls in the window ÷ page size), at least 1 because an
empty window still takes one call to learn it is empty. The overlap (the last `overlap_seconds`
before the cursor) is part of the first window and counts as needed: the design re-reads it on
purpose to catch orders that moved while a window was being paged.
"""

from __future__ import annotations

from bench.calls import fault_free
from bench.report import Line, ratio

TARGET = 1.1


def run(quick: bool) -> list[Line]:
    """The worst run's ratio, and every run's figures."""
    work = fault_free(quick)
    ratios = [r.searches / r.pages_needed for r in work.runs]
    worst = max(ratios)
    per_run = " ".join(f"{r.searches}/{r.pages_needed}" for r in work.runs)
    return [
        Line(
            "tiktok_searches_per_needed_page",
            ratio(worst),
            f"target <= {TARGET}; worst of {len(ratios)} runs",
            worst <= TARGET,
        ),
        Line("tiktok_searches_by_run", per_run, "search calls / pages needed, orders + returns"),
        Line(
            "tiktok_searches_total",
            str(sum(r.searches for r in work.runs)),
            f"pages needed {sum(r.pages_needed for r in work.runs)}",
        ),
        Line(
            "tiktok_order_detail_calls",
            str(sum(r.details for r in work.runs)),
            "not searches: orders fetched by id because a return named an order never seen",
        ),
    ]
