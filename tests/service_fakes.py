"""Helpers for the daemon, notify and metrics tests: configs, stub apps, results, datagrams."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sync_job.dealpos.stats import CallStats
from sync_job.engine.cycle import CycleResult
from sync_job.service.app import App
from sync_job.service.config import Config, parse_config
from sync_job.state.store import Store


def make_config(
    tmp_path: Path,
    shops: tuple[str, ...] = ("shop1",),
    *,
    interval: int = 60,
    metrics: dict[str, str] | None = None,
) -> Config:
    """A valid config with fake secrets, its state under tmp_path, no jitter."""
    data: dict[str, Any] = {
        "state": {"path": str(tmp_path / "state" / "sync.db")},
        "schedule": {"interval_seconds": interval, "jitter_seconds": 0},
        "tiktok": {
            "app_key": "appkey",
            "app_secret": "app-secret-QQQQ",
            "access_token": "access-token-QQQQ",
            "refresh_token": "refresh-token-QQQQ",
            "shops": [{"id": s, "cipher": f"cipher-{s}", "outlet": "Online Store"} for s in shops],
        },
        "dealpos": {
            "base_url": "http://127.0.0.1:9",
            "client_id": "client",
            "client_secret": "client-secret-QQQQ",
        },
        "metrics": metrics or {},
    }
    return parse_config(data, env={})


def result(
    shop: str = "shop1",
    status: str = "ok",
    error: str | None = None,
    kind: str | None = None,
    **counts: Any,
) -> CycleResult:
    """A finished cycle's result with the given counts (`kind`: the error's class name)."""
    return CycleResult(
        shop, "run-" + shop, "realtime", status=status, error=error, error_kind=kind, counts=counts
    )


class StubApp:
    """Stands in for App in daemon tests: `behaviour(app)` plays the part of run_once."""

    def __init__(
        self,
        store: Store,
        behaviour: Callable[[StubApp], list[CycleResult]] | None = None,
    ) -> None:
        self.store = store
        self.behaviour = behaviour or (lambda app: [result()])
        self.should_stop: Callable[[], bool] = lambda: False
        self.dealpos = _StubDealpos()
        self.runs = 0
        self.closed = False
        self.thread: threading.Thread | None = None

    def run_once(self, shop_id: str | None, *, dry_run: bool = False) -> list[CycleResult]:
        """Play the scripted behaviour."""
        self.runs += 1
        self.thread = threading.current_thread()
        return self.behaviour(self)

    def close(self) -> None:
        """Close the store."""
        self.closed = True
        self.store.close()


def stub_app(store: Store, behaviour: Callable[[StubApp], list[CycleResult]] | None = None) -> App:
    """A StubApp, typed as the App it stands in for (the daemon uses only what it has)."""
    return cast(App, StubApp(store, behaviour))


class _StubDealpos:
    def __init__(self) -> None:
        self.stats = CallStats()


@contextmanager
def datagram_socket(abstract: bool = False) -> Iterator[tuple[socket.socket, str]]:
    """A bound AF_UNIX datagram socket and the NOTIFY_SOCKET value that reaches it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    folder = tempfile.mkdtemp(prefix="sdn-")  # short: AF_UNIX paths are limited to 107 bytes
    try:
        if abstract:
            name = f"sync-job-test-{os.getpid()}-{id(sock)}"
            sock.bind("\0" + name)
            address = "@" + name
        else:
            address = os.path.join(folder, "notify")
            sock.bind(address)
        sock.settimeout(2.0)
        yield sock, address
    finally:
        sock.close()
        Path(folder, "notify").unlink(missing_ok=True)
        os.rmdir(folder)


def drain(sock: socket.socket) -> list[str]:
    """Every datagram waiting on the socket, in order."""
    sock.setblocking(False)
    messages = []
    try:
        while True:
            messages.append(sock.recv(4096).decode())
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(2.0)
    return messages
