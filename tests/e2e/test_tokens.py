"""The TikTok token pair shared by processes: seeding from config.

Real parts: the TikTok simulator on loopback, a real state file, the real command or App.
"""

from __future__ import annotations

import os
import subprocess
import sys

from sync_job.domain.model import Tokens
from sync_job.state.store import Store
from tests.e2e.conftest import RUN_TIMEOUT, SECRETS, Sandbox

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
