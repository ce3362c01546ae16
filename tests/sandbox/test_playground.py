"""`sync-job sandbox` as a playground: fresh state, a config file, every command works."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import requests

from sync_job.sandbox import defaults
from sync_job.sandbox.playground import fresh_state, to_toml
from sync_job.sandbox.runner import sandbox_settings
from sync_job.service.cli import main
from sync_job.state.store import Store


def test_settings_survive_the_toml_round_trip(tmp_path: Path) -> None:
    """The config the sandbox writes reads back as exactly its settings."""
    settings = sandbox_settings("http://127.0.0.1:1", "http://127.0.0.1:2", tmp_path, "127.0.0.1:3")
    assert tomllib.loads(to_toml(settings)) == settings


def test_fresh_state_removes_only_the_sandbox_files(tmp_path: Path) -> None:
    """The old state DB (and its side files, and the old config) go; anything else stays."""
    for name in ("sync.db", "sync.db-wal", "config.toml", "notes.txt"):
        (tmp_path / name).write_text("x")
    assert sorted(fresh_state(tmp_path)) == ["config.toml", "sync.db", "sync.db-wal"]
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sync_job", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _wait_for_a_run(config: Path, proc: subprocess.Popen[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 45
    while True:
        assert proc.poll() is None, "the sandbox stopped"
        if config.exists():
            shops = json.loads(_cli(config, "status", "--json").stdout)["shops"]
            if shops[0].get("last_run"):
                return dict(shops[0])
        assert time.monotonic() < deadline, "no run was recorded"
        time.sleep(0.5)


@pytest.mark.timeout(120)
def test_every_command_works_against_the_running_sandbox(tmp_path: Path) -> None:
    """Old state is reset; status, attention, check, verify and connect work on its config."""
    state = tmp_path / "sandbox-state"
    old = Store.open(state / "sync.db")
    old.raise_attention(defaults.TIKTOK_SHOP_ID, "1", "left-from-last-time", "k", "stale item")
    old.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync_job", "sandbox", "--state-dir", str(state), "--seed", "5"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    config = state / "config.toml"
    try:
        shop = _wait_for_a_run(config, proc)
        kinds = [a["kind"] for a in shop["attention"]]
        assert "left-from-last-time" not in kinds
        assert _cli(config, "attention").returncode == 0
        checked = _cli(config, "check", "--skus", "5")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        if "verify" in main.commands:  # another change adds it
            assert _cli(config, "verify").returncode in (0, 1)  # findings: possible mid-flight
        link = _cli(config, "connect")
        assert link.returncode == 0
        url = re.search(r"(http://127\.0\.0\.1:\d+/open/authorize\?\S+)", link.stdout)
        assert url is not None, link.stdout
        code = re.search(r"connect --code (\S+?)<", requests.get(url.group(1), timeout=5).text)
        assert code is not None
        connected = _cli(config, "connect", "--code", code.group(1))
        assert connected.returncode == 0 and "[configured]" in connected.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    assert f"--config {config} status" in err or "config.toml status" in err
