"""Backfill progress: quota-aware ETA, periodic log lines, a bar on terminals."""

from __future__ import annotations

import io

from structlog.testing import capture_logs

from sync_job.service.progress import BarProgress, LogProgress, make_progress, quota_eta


def test_eta_is_bounded_below_by_the_quota() -> None:
    """With 50 calls per 180 s, 100 remaining calls take at least 360 s whatever the pace so far."""
    assert quota_eta(100, 10, 1.0, 50 / 180) == 360.0
    # A slower observed pace wins over the quota.
    assert quota_eta(100, 10, 100.0, 50 / 180) == 1000.0


def test_log_progress_reports_every_interval_with_eta() -> None:
    """Plain lines appear at most every `every` seconds, with done/total and an ETA."""
    now = [0.0]
    progress = LogProgress(1.0, every=10, clock=lambda: now[0])
    with capture_logs() as logs:
        progress.phase("push to DealPOS", 100, "call")
        for _ in range(30):
            now[0] += 1
            progress.advance(1)
        progress.close()
    lines = [e for e in logs if e["event"] == "backfill progress"]
    assert [e["done"] for e in lines] == [10, 20, 30, 30]
    assert lines[0]["eta"] == "01:30"  # 90 calls left at 1 call/s


def test_terminal_gets_a_bar_and_pipes_get_lines() -> None:
    """make_progress picks a tqdm bar only for a TTY."""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    progress = make_progress(1.0, stream=tty)
    assert isinstance(progress, BarProgress)
    progress.phase("push to DealPOS", 5, "call")
    progress.advance(2)
    progress.close()
    assert "push to DealPOS" in tty.getvalue() and "2/5" in tty.getvalue()
    assert isinstance(make_progress(1.0, stream=io.StringIO()), LogProgress)
