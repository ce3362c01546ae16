"""`sync-job sandbox` (what `make run` starts) has the simulated TikTok push webhooks by default."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _pushed(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        row = conn.execute("SELECT COUNT(*) FROM webhook_inbox WHERE outcome = 'pushed'").fetchone()
        return int(row[0])
    except sqlite3.OperationalError:
        return 0  # not created yet
    finally:
        conn.close()


@pytest.mark.timeout(90)
def test_sandbox_daemon_receives_and_works_off_the_simulators_webhooks(tmp_path: Path) -> None:
    """Within seconds of starting, notifications were received and worked off; Ctrl-C exits 0."""
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync_job", "sandbox", "--state-dir", str(state), "--seed", "3"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 45
        while _pushed(state / "sync.db") == 0:
            assert time.monotonic() < deadline, "no webhook was worked off"
            assert proc.poll() is None
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    assert "TikTok pushes order changes to http://127.0.0.1:" in err
