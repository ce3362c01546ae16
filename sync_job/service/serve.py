"""Serve a WSGI app (the webhook receiver, the operator page) on its own thread with waitress.

Waitress answers from a fixed pool of worker threads, so a flood of requests queues up inside the
server instead of starving the daemon's cycles; its own asyncore loop runs on one more thread.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any

import structlog
from waitress.server import create_server

log = structlog.get_logger(__name__)

DEFAULT_THREADS = 4
# How long an idle keep-alive connection may hold a channel (waitress' default is 120 s).
CHANNEL_TIMEOUT_SECONDS = 30


def split_listen(listen: str) -> tuple[str, int]:
    """Split "host:port" (IPv6 hosts in brackets) into its parts."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


@dataclass
class ServerThread:
    """One waitress server running on a background thread until `stop()`."""

    name: str
    server: Any
    thread: threading.Thread = field(init=False)

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0 in tests)."""
        return int(self.server.effective_port)

    @property
    def address(self) -> str:
        """host:port as bound."""
        return f"{self.server.effective_host}:{self.port}"

    def start(self) -> ServerThread:
        """Start serving on a daemon thread."""
        self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self.thread.start()
        log.info("listening", server=self.name, address=self.address)
        return self

    def _run(self) -> None:
        with contextlib.suppress(OSError):  # the socket closed under the loop while stopping
            self.server.run()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, finish the worker threads, and wait for the loop to end."""
        self.server.task_dispatcher.shutdown(timeout=timeout)
        self.server.close()
        for channel in list(self.server._map.values()):  # open keep-alive connections
            channel.close()
        self.thread.join(timeout)


def start_server(
    app: Any, listen: str, *, name: str, threads: int = DEFAULT_THREADS
) -> ServerThread:
    """Bind `listen` ("host:port") now (errors surface here) and serve `app` on a thread."""
    host, port = split_listen(listen)
    server = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        channel_timeout=CHANNEL_TIMEOUT_SECONDS,
        ident="sync-job",
        clear_untrusted_proxy_headers=True,
    )
    return ServerThread(name, server).start()
