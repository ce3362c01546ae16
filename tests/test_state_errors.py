"""A state file the job cannot use: one clear message naming it, the right exit code, no traceback.

Covers `once`, `status`, `retry` (through click's runner) and the daemon (`run`, a real process):
a damaged or truncated file, a folder where the file should be, a file from a newer sync-job and
a folder the user cannot write.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from sync_job.service.cli import main
from sync_job.state.store import Store
from tests.test_cli import CONFIG, SECRETS, write_config

COMMANDS = [["once"], ["status"], ["status", "--json"], ["retry"]]


def invoke(config: Path, args: list[str]) -> tuple[int, str]:
    """Run a command; return (exit code, stderr). Any uncaught exception fails the test."""
    result = CliRunner().invoke(main, ["--config", str(config), *args], env=SECRETS)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, result.stderr


def state_with_orders(path: Path) -> None:
    """A state file with enough rows to span many pages."""
    store = Store.open(path)
    with store.transaction("fill the state"):
        for i in range(2000):
            store.record_order("shop1", str(i), "AWAITING_SHIPMENT", i, "h", {"x": "y" * 200})
    store.close()


def garbage(path: Path) -> None:
    """Overwrite the file with bytes that are not SQLite."""
    path.write_bytes(b"this is not a database " * 200)


def truncated(path: Path) -> None:
    """Cut the file in half, as a crash mid-copy would."""
    state_with_orders(path)
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)


@pytest.mark.parametrize("damage", [garbage, truncated], ids=["garbage", "truncated"])
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_damaged_state_file_is_one_message_and_exit_1(
    tmp_path: Path, damage: Callable[[Path], None], args: list[str]
) -> None:
    """A corrupted or truncated sync.db: the message names the file and what to do."""
    config = write_config(tmp_path)
    path = tmp_path / "state" / "sync.db"
    path.parent.mkdir()
    damage(path)
    code, err = invoke(config, args)
    assert code == 1
    assert f"the state file {path} is damaged" in err
    assert "restore it from a backup" in err and "Traceback" not in err


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_state_path_pointing_at_a_folder_exits_2(tmp_path: Path, args: list[str]) -> None:
    """state.path names a folder: a config mistake, exit 2, with the fix."""
    (tmp_path / "state").mkdir()
    config = write_config(tmp_path, CONFIG.replace('path = "state/sync.db"', 'path = "state"'))
    code, err = invoke(config, args)
    assert code == 2
    assert f"state.path {tmp_path / 'state'} is a folder" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("how", ["user_version", "migration"])
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_state_file_from_a_newer_version_is_refused_by_name(
    tmp_path: Path, how: str, args: list[str]
) -> None:
    """A newer schema (user_version above ours, or a migration we do not know) is refused."""
    from sync_job.state.migrations import schema_version

    config = write_config(tmp_path)
    path = tmp_path / "state" / "sync.db"
    Store.open(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    if how == "user_version":
        conn.execute(f"PRAGMA user_version = {schema_version() + 1}")
    else:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('sync_job', 'm999_from_the_future', '2030-01-01')"
        )
    conn.close()
    code, err = invoke(config, args)
    assert code == 1
    assert f"the state file {path} was written by a newer sync-job" in err
    assert "upgrade sync-job" in err


def test_migrating_sets_the_schema_version(tmp_path: Path) -> None:
    """Every file this version opens carries its schema version."""
    from sync_job.state.migrations import schema_version

    path = tmp_path / "sync.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_version() > 0
    conn.close()


def _unprivileged() -> list[str]:
    """A command prefix under which file modes hold even for root (which ignores them)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be made")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


@pytest.mark.parametrize("args", [["once"], ["status"], ["retry"]], ids=" ".join)
def test_read_only_state_folder_is_one_message_and_exit_1(tmp_path: Path, args: list[str]) -> None:
    """The state folder cannot be written by the user running the job: say so, exit 1."""
    config = write_config(tmp_path)
    path = tmp_path / "state" / "sync.db"
    Store.open(path).close()
    path.parent.chmod(0o555)
    try:
        proc = subprocess.run(
            [*_unprivileged(), sys.executable, "-m", "sync_job", "--config", str(config), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **SECRETS},
        )
    finally:
        path.parent.chmod(0o700)
    assert proc.returncode == 1, proc.stderr
    assert f"cannot write the state file {path}" in proc.stderr
    assert "writable by the user that runs sync-job" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_daemon_exits_non_zero_on_a_damaged_state_file(tmp_path: Path) -> None:
    """`run` stops with exit 1 and one critical line instead of "cycle crashed" every interval."""
    config = write_config(tmp_path, CONFIG + "[schedule]\ninterval_seconds = 1\n")
    path = tmp_path / "state" / "sync.db"
    path.parent.mkdir()
    garbage(path)
    proc = subprocess.run(
        [sys.executable, "-m", "sync_job", "--config", str(config), "run"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **SECRETS},
    )
    assert proc.returncode == 1
    assert "the state file cannot be used" in proc.stderr
    assert f"the state file {path} is damaged" in proc.stderr
    assert "cycle crashed" not in proc.stderr


def _real_corruption_error(tmp_path: Path) -> sqlite3.DatabaseError:
    """The error SQLite itself raises when reading a damaged file."""
    path = tmp_path / "damaged.db"
    garbage(path)
    try:
        sqlite3.connect(path).execute("SELECT * FROM sqlite_master").fetchall()
    except sqlite3.DatabaseError as exc:
        return exc
    raise AssertionError("SQLite read the garbage file")


def test_daemon_stops_when_the_state_file_fails_mid_cycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file turns out damaged during a cycle: the daemon stops with exit code 1 instead of
    containing it to the shop and failing again every interval."""
    from sync_job.service.daemon import Daemon
    from tests.service_fakes import make_config

    error = _real_corruption_error(tmp_path)
    daemon = Daemon(make_config(tmp_path))
    app = daemon._open()  # the daemon's App, open on a good file

    def damaged(*args: object) -> None:
        raise error

    monkeypatch.setattr(app.store, "get_cursor", damaged)
    assert daemon.cycle() == []
    assert daemon.stop.is_set() and daemon.fatal is not None
    assert f"the state file {app.config.state.path} is damaged" in str(daemon.fatal)
    assert daemon._exit_code() == 1
    assert daemon.app is None  # closed


def test_daemon_stops_when_a_webhook_round_finds_the_state_file_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between cycles too (working off webhooks): a damaged state file stops the daemon, exit 1."""
    from sync_job.service.daemon import Daemon
    from tests.service_fakes import make_config

    error = _real_corruption_error(tmp_path)
    daemon = Daemon(make_config(tmp_path))
    app = daemon._open()

    def damaged() -> None:
        raise error

    monkeypatch.setattr(app, "run_inbox", damaged)
    daemon.webhook_round()
    assert daemon.stop.is_set() and daemon._exit_code() == 1
