"""Console output a person can read: short cycle lines, idle cycles quiet, bars left whole."""

from __future__ import annotations

import io
import json
import re

import structlog

from sync_job.service.logs import configure_logging
from sync_job.service.progress import BarProgress

COUNTS = {
    "fetched": 3,
    "returns": 0,
    "changed": 2,
    "stale": 0,
    "created": 2,
    "sent": 0,
    "paid": 1,
    "recycled": 0,
    "adopted": 0,
    "lookups": 0,
    "quarantined": 0,
    "pending": 0,
    "dealpos_calls": 3,
    "rate_limited": 0,
    "duration_s": 0.05,
}
IDLE = dict.fromkeys(COUNTS, 0) | {"duration_s": 0.01}


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def cycle(**counts: object) -> None:
    """Log a cycle's end as engine/cycle.py does."""
    log = structlog.get_logger("sync_job.engine.cycle").bind(run_id="r1", shop_id="s1")
    log.info("cycle finished", status="ok", mode="realtime", **counts)


def test_terminal_line_is_short_and_in_reading_order() -> None:
    """On a terminal: the counts above zero, in a fixed order, far shorter than the JSON line."""
    out = Terminal()
    configure_logging(stream=out, env={})
    cycle(**COUNTS)
    line = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue().strip())  # colours aside
    assert "cycle ok: 3 fetched, 2 changed, 2 created, 1 paid, 3 DealPOS calls in 0.05 s" in line
    assert "returns=" not in line and "rate_limited" not in line and "run_id" not in line
    assert "shop_id" in line
    assert len(line) < 150, line


def test_idle_cycle_says_nothing_on_a_terminal_except_with_verbose() -> None:
    """An idle cycle prints nothing, unless at debug level."""
    out = Terminal()
    configure_logging(stream=out, env={})
    cycle(**IDLE)
    assert out.getvalue() == ""
    configure_logging(stream=out, env={}, verbose=True)
    cycle(**IDLE)
    assert "cycle ok: nothing new" in out.getvalue()


def test_json_keeps_every_field_and_every_cycle() -> None:
    """JSON lines keep all 18 fields, idle cycles included."""
    out = io.StringIO()
    configure_logging(stream=out, env={})
    cycle(**IDLE)
    cycle(**COUNTS)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 2
    assert all(set(COUNTS) <= set(line) for line in lines)
    assert lines[1]["event"] == "cycle finished" and lines[1]["run_id"] == "r1"


def test_log_lines_do_not_cut_the_progress_bar() -> None:
    """A log line while the bar shows gets a cleared line of its own; the bar is redrawn after."""
    out = Terminal()
    configure_logging(stream=out, env={})
    bar = BarProgress(1.0, stream=out)
    bar.phase("push to DealPOS", 5, "call")
    bar.advance(2)
    structlog.get_logger("x").warning("dealpos refused", order_id="o1")
    bar.advance(1)
    bar.close()
    text = out.getvalue()
    start = text.index("dealpos refused")
    line_start = max(text.rfind("\r", 0, start), text.rfind("\n", 0, start))
    assert "push to DealPOS" not in text[line_start:start]  # nothing of the bar on the log line
    assert "2/5" in text[start:]  # the bar as it was, drawn again below the log line
