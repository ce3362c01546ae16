"""Counts of DealPOS calls by endpoint and outcome, for run summaries, metrics and benchmarks."""

from __future__ import annotations

import threading
from collections import Counter

__all__ = ["CallStats"]


class CallStats:
    """Tally of every HTTP call the DealPOS client made (token calls included)."""

    def __init__(self) -> None:
        self.by_outcome: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def count(self, endpoint: str, outcome: str) -> None:
        """Add one call to `endpoint` that ended in `outcome` (an HTTP status or an error name)."""
        with self._lock:
            self.by_outcome[(endpoint, outcome)] += 1

    @property
    def calls(self) -> int:
        """Total HTTP calls made."""
        return sum(self.by_outcome.values())

    @property
    def rate_limited(self) -> int:
        """Calls DealPOS answered with 429."""
        return sum(n for (_, outcome), n in self.by_outcome.items() if outcome == "429")

    def by_endpoint(self) -> dict[str, int]:
        """Total calls per endpoint name."""
        totals: Counter[str] = Counter()
        for (endpoint, _), n in self.by_outcome.items():
            totals[endpoint] += n
        return dict(totals)

    def as_dict(self) -> dict[str, object]:
        """Plain-data view for JSON summaries: totals plus `endpoint status -> count`."""
        outcomes = {f"{e} {o}": n for (e, o), n in sorted(self.by_outcome.items())}
        return {"calls": self.calls, "rate_limited": self.rate_limited, "outcomes": outcomes}
