"""Where and how the page is served: by the daemon when [web] listen is set, by `sync-job web`
alone (exit 0 on SIGTERM/SIGINT), and nowhere when it is not set."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from sync_job.engine.cycle import CycleResult
from sync_job.service.config import WebConfig
from sync_job.service.daemon import Daemon
from sync_job.service.web import start_web_if_configured
from sync_job.state.store import Store
from tests.service_fakes import StubApp, make_config, result


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_page_is_off_without_listen(tmp_path: Path) -> None:
    """No [web] listen: nothing is served."""
    assert start_web_if_configured(make_config(tmp_path)) is None


def test_page_binds_only_the_configured_address(tmp_path: Path) -> None:
    """The server listens on exactly the configured host and port."""
    port = free_port()
    config = replace(make_config(tmp_path), web=WebConfig(listen=f"127.0.0.1:{port}"))
    server = start_web_if_configured(config)
    assert server is not None
    try:
        assert server.address == f"127.0.0.1:{port}"
        assert requests.get(f"http://127.0.0.1:{port}/shop/shop1", timeout=5).status_code == 200
    finally:
        server.stop()


def test_daemon_serves_the_page_while_it_runs_and_stops_it(tmp_path: Path) -> None:
    """`sync-job run` with [web] listen: the page answers during the cycle, and is gone after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/shop/shop1"
    config = replace(make_config(tmp_path), web=WebConfig(listen=f"127.0.0.1:{port}"))
    seen: list[int] = []

    def behaviour(app: StubApp) -> list[CycleResult]:
        seen.append(requests.get(url, timeout=5).status_code)
        os.kill(os.getpid(), signal.SIGTERM)
        return [result(status="stopped")]

    def factory(_config: Any) -> Any:
        return StubApp(Store.open(tmp_path / "state" / "sync.db"), behaviour)

    assert Daemon(config, app_factory=factory).run() == 0
    assert seen == [200]
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)


def _write_config(tmp_path: Path, web: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[state]\npath = "state/sync.db"\n{web}\n'
        '[tiktok]\napp_key = "k"\napp_secret = "s-QQQQ"\naccess_token = "a-QQQQ"\n'
        'refresh_token = "r-QQQQ"\n[[tiktok.shops]]\nid = "shop1"\ncipher = "c"\n'
        'outlet = "Online Store"\n[dealpos]\nbase_url = "http://127.0.0.1:9"\n'
        'client_id = "c"\nclient_secret = "d-QQQQ"\n'
    )
    return path


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sync_job_web_serves_until_a_signal_and_exits_0(tmp_path: Path, signum: int) -> None:
    """`sync-job web` prints the address, serves the page, and exits 0 on SIGTERM or SIGINT."""
    port = free_port()
    config = _write_config(tmp_path, f'[web]\nlisten = "127.0.0.1:{port}"\n')
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync_job", "--config", str(config), "web"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SYNC_JOB_WEB_TOKEN": "web-token-QX7Z9-0123456789"},
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        while "operator page" not in line:
            assert line, "sync-job web ended without printing its address"
            line = proc.stderr.readline()
        assert f"http://127.0.0.1:{port}/" in line
        page = requests.get(f"http://127.0.0.1:{port}/shop/shop1", timeout=10)
        assert page.status_code == 200 and "Sign in to act" in page.text
        assert "web-token-QX7Z9" not in page.text
        proc.send_signal(signum)
        assert proc.wait(timeout=20) == 0
        assert "web-token-QX7Z9" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sync_job_web_without_listen_exits_2(tmp_path: Path) -> None:
    """No [web] listen: a usage error naming the key, before anything is served."""
    config = _write_config(tmp_path, "")
    proc = subprocess.run(
        [sys.executable, "-m", "sync_job", "--config", str(config), "web"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "web.listen" in proc.stderr


def test_a_taken_port_is_one_message_and_exit_2(tmp_path: Path) -> None:
    """`run` and `web` with [web] listen on a port in use: exit 2 naming the key, no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = _write_config(tmp_path, f'[web]\nlisten = "127.0.0.1:{port}"\n')
        for command in ("run", "web"):
            proc = subprocess.run(
                [sys.executable, "-m", "sync_job", "--config", str(config), command],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "TIKTOK_APP_SECRET": "s-QQQQ"},
            )
            assert proc.returncode == 2, proc.stderr[-1500:]
            assert f"web.listen: cannot listen on 127.0.0.1:{port}" in proc.stderr
            assert "Traceback" not in proc.stderr
