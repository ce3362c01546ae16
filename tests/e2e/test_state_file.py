"""The state file failing under the job: clear messages, exit codes, no traceback, no held lease.

Real parts: both simulators on loopback, the real command in a subprocess, a real SQLite file made
to fail the way a full disk, a damaged file or a newer version would.
"""

from __future__ import annotations

import sqlite3

from tests.e2e.conftest import Sandbox

FULL_DISK_TRIGGER = (
    "CREATE TRIGGER full_disk BEFORE UPDATE OF finished_at ON runs "
    "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
)


def _sql(box: Sandbox, statement: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(box.state_path, isolation_level=None)
    try:
        return conn.execute(statement).fetchall()
    finally:
        conn.close()


def test_failing_to_record_the_end_of_a_run_releases_the_lease(sandbox: Sandbox) -> None:
    """The run's last write fails (disk full): a log line, exit 1, no traceback, lease released."""
    box = sandbox
    box.run("once")
    _sql(box, FULL_DISK_TRIGGER)
    proc = box.run("once", check_codes=(1,))
    assert "Traceback" not in proc.stderr
    assert "could not record the end of the run" in proc.stderr
    assert _sql(box, "SELECT * FROM locks") == []  # the next run is not blocked
    _sql(box, "DROP TRIGGER full_disk")
    box.run("once")
    statuses = [s for (s,) in _sql(box, "SELECT status FROM runs ORDER BY rowid")]
    assert statuses == ["ok", "killed", "ok"]  # the unrecorded run is closed by the next one
