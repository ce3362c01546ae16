"""The TikTok token pair shared by processes: seeding from config, re-reading, one refresh at once.

Real parts: the TikTok simulator on loopback, a real state file, the real command or App.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sync_job.domain.model import Tokens
from sync_job.service.app import App
from sync_job.service.config import load_config
from sync_job.state.store import Store
from tests.e2e.conftest import RUN_TIMEOUT, SECRETS, Sandbox, running_sandbox

REFRESH = "GET /api/v2/token/refresh"


def run_once(box: Sandbox, **env: str) -> subprocess.CompletedProcess[str]:
    """`sync-job once` with the secrets, some replaced (e.g. a newly configured token pair)."""
    return subprocess.run(
        [sys.executable, "-m", "sync_job", "--config", str(box.config_path), "once"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env={**os.environ, **SECRETS, **env},
    )


def stored(box: Sandbox) -> Tokens:
    """The pair in the state file."""
    store = Store.open(box.state_path)
    try:
        tokens = store.load_tokens("e2e-app-key")
    finally:
        store.close()
    assert tokens is not None
    return tokens


def pair_env(access: str, refresh: str) -> dict[str, str]:
    """The environment that configures this token pair."""
    return {"TIKTOK_ACCESS_TOKEN": access, "TIKTOK_REFRESH_TOKEN": refresh}


def test_a_newly_configured_pair_replaces_the_stored_one(sandbox: Sandbox) -> None:
    """After a re-authorization, the new pair given through env is used (no need to delete the DB);
    while the configured pair stays the same, the stored (refreshed) pair keeps winning."""
    box = sandbox
    box.tiktok.expire_access_token()
    assert run_once(box).returncode == 0  # refreshed: the stored pair is no longer the env pair
    assert stored(box).access_token != SECRETS["TIKTOK_ACCESS_TOKEN"]

    access, refresh = box.tiktok.reauthorize()  # the stored pair is now revoked
    proc = run_once(box, **pair_env(access, refresh))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert stored(box).access_token == access

    box.tiktok.expire_access_token()
    assert run_once(box, **pair_env(access, refresh)).returncode == 0  # refreshes, stores anew
    rotated = stored(box)
    assert rotated.access_token != access
    # The configured refresh token was spent: only the stored pair can refresh now.
    box.tiktok.expire_access_token()
    proc = run_once(box, **pair_env(access, refresh))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert stored(box).refresh_token != rotated.refresh_token


def _config(box: Sandbox) -> Any:
    return load_config(box.config_path, env=SECRETS)


def test_a_long_lived_app_takes_up_the_pair_another_process_refreshed(sandbox: Sandbox) -> None:
    """The daemon's App keeps working after a `once` rotated the pair under it."""
    box = sandbox
    daemon = App.open(_config(box))
    try:
        assert [r.status for r in daemon.run_once(None)] == ["ok"]
        box.tiktok.expire_access_token()
        other = App.open(_config(box))  # a `once` in another process, same state file
        try:
            assert [r.status for r in other.run_once(None)] == ["ok"]
        finally:
            other.close()
        assert box.tiktok.calls.count(REFRESH) == 1
        # The daemon's in-memory access token expired and its refresh token was spent by `once`.
        results = daemon.run_once(None)
        assert [r.status for r in results] == ["ok"], results[0].error
        assert box.tiktok.calls.count(REFRESH) == 1  # it took up the stored pair, no new refresh
    finally:
        daemon.close()


def _refresh_in_child(config_path: str, barrier: Any, out: Any) -> None:
    """Child process: build the client, wait for the others, then refresh."""
    config = load_config(Path(config_path), env=SECRETS)
    app = App.open(config)
    try:
        barrier.wait(timeout=10)
        try:
            app.tiktok.refresh_tokens()
            out.put("ok")
        except Exception as exc:  # reported to the parent, which asserts on it
            out.put(f"{type(exc).__name__}: {exc}")
    finally:
        app.close()


def test_processes_refreshing_at_once_spend_the_refresh_token_once(tmp_path: Path) -> None:
    """Four processes refresh together: one refresh call, the others take up its pair."""
    fork = multiprocessing.get_context("fork")
    with running_sandbox(tmp_path) as box:
        App.open(_config(box)).close()  # seed the stored pair before the race
        barrier, out = fork.Barrier(4), fork.Queue()
        procs = [
            fork.Process(target=_refresh_in_child, args=(str(box.config_path), barrier, out))
            for _ in range(4)
        ]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=60)
        outcomes = sorted(out.get(timeout=5) for _ in procs)
        assert outcomes == ["ok"] * 4
        assert box.tiktok.calls.count(REFRESH) == 1
        assert stored(box).access_token == box.tiktok.tokens[0]


def test_a_revoked_pair_fails_as_authentication_naming_connect(sandbox: Sandbox) -> None:
    """The seller revoked the app: the shop fails as an AuthError (the daemon's alarm counts it),
    and `once` exits 1 saying to run `sync-job connect` again."""
    from sync_job.service.daemon import is_auth_failure

    box = sandbox
    assert run_once(box).returncode == 0
    box.tiktok.reauthorize()  # the stored pair is revoked; nobody configured the new one
    app = App.open(_config(box))
    try:
        (result,) = app.run_once(None)
    finally:
        app.close()
    assert result.status == "failed" and result.error_kind == "AuthError"
    assert is_auth_failure(result)
    proc = run_once(box)
    assert proc.returncode == 1
    assert "run `sync-job connect` again" in proc.stderr
