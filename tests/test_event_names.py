"""Log event names share one style: a short lower-case phrase, details in keys.

"cycle finished", "tiktok call retrying", "webhook refused: bad signature" — never a dotted or
snake_case identifier such as "tiktok.retrying" or "tokens_refreshed". Operators grep and alert on
these names (README), so one style makes them guessable.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "sync_job"
LEVELS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal"}
IDENTIFIER_STYLE = re.compile(r"\w\.\w|_")


def log_events() -> list[tuple[str, str]]:
    """(where, event) of every log call on a logger named like `log` with a literal event."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            target = node.func.value
            name = getattr(target, "id", getattr(target, "attr", ""))
            first = node.args[0] if node.args else None
            if (
                node.func.attr in LEVELS
                and "log" in name.lower()
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.append((f"{path.relative_to(PACKAGE.parent)}:{node.lineno}", first.value))
    return found


def test_the_scan_finds_the_log_calls() -> None:
    """The scan sees the events it is meant to check (so the style test cannot pass empty)."""
    events = {event for _, event in log_events()}
    assert {"cycle finished", "tiktok call retrying", "dealpos call"} <= events


def test_every_event_name_is_a_lower_case_phrase() -> None:
    """No dotted or snake_case event names; each starts with a lower-case letter."""
    wrong = [
        (where, event)
        for where, event in log_events()
        if IDENTIFIER_STYLE.search(event) or not event[:1].islower()
    ]
    assert not wrong
