"""What a person at a terminal sees: a short cycle line, no idle cycles, bars left whole.

JSON logs (journald, files, pipes) keep every field of every cycle; only the console renderer
uses these.
"""

from __future__ import annotations

import logging
from typing import Any, Final, TextIO

from structlog.typing import EventDict, WrappedLogger
from tqdm import tqdm

CYCLE_EVENT: Final = "cycle finished"
# The cycle's counts in the order a person reads them: what came in, what happened to the
# invoices, what is stuck, what it cost. Only those above zero are shown.
SUMMARY: Final = (
    ("fetched", "fetched"),
    ("returns", "returns"),
    ("changed", "changed"),
    ("created", "created"),
    ("sent", "sent"),
    ("paid", "paid"),
    ("recycled", "recycled"),
    ("adopted", "adopted"),
    ("stale", "stale"),
    ("quarantined", "quarantined"),
    ("pending", "pending"),
    ("lookups", "lookups"),
    ("dealpos_calls", "DealPOS calls"),
    ("rate_limited", "429s"),
)
# Fields the short line replaces (the JSON line keeps them all).
_FOLDED: Final = frozenset(
    {key for key, _ in SUMMARY} | {"status", "mode", "duration_s", "run_id", "logger"}
)


def is_idle_cycle(event: Any) -> bool:
    """True for a finished cycle that went fine and found nothing to do."""
    return (
        isinstance(event, dict)
        and event.get("event") == CYCLE_EVENT
        and event.get("status") == "ok"
        and not any(event.get(key) for key, _ in SUMMARY)
    )


def short_cycle_line(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Processor: the 18-field cycle event as `cycle ok: 3 fetched, 2 created ... in 0.1 s`."""
    if event_dict.get("event") != CYCLE_EVENT:
        return event_dict
    parts = [f"{event_dict[key]} {label}" for key, label in SUMMARY if event_dict.get(key)]
    mode = event_dict.get("mode")
    head = f"cycle {event_dict.get('status', '?')}" + (
        f" ({mode})" if mode not in (None, "realtime") else ""
    )
    took = event_dict.get("duration_s")
    tail = f" in {took:g} s" if isinstance(took, int | float) else ""
    short = {k: v for k, v in event_dict.items() if k not in _FOLDED}
    short["event"] = f"{head}: {', '.join(parts) or 'nothing new'}{tail}"
    return short


class IdleCycleFilter(logging.Filter):
    """Drops idle cycle lines from the console (shown again with --verbose)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for an idle cycle's record (structlog puts its event dict in `msg`)."""
        return not is_idle_cycle(record.msg)


class BarAwareStream:
    """A stream that clears any tqdm bar on it before a log line and redraws it after.

    So a backfill's bar is never cut by a log line written while it shows.
    """

    def __init__(self, target: TextIO) -> None:
        self.target = target

    def write(self, text: str) -> int:
        """Write `text` with the bars on this stream cleared first and redrawn after."""
        with tqdm.external_write_mode(file=self.target):
            return self.target.write(text)

    def flush(self) -> None:
        """Flush the terminal."""
        self.target.flush()

    def isatty(self) -> bool:
        """Whether the target is a terminal."""
        return self.target.isatty()

    def fileno(self) -> int:
        """The target's file descriptor."""
        return self.target.fileno()
