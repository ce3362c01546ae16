"""A small base for loopback HTTP servers: threads, keep-alive, JSON replies, quiet logs."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from sync_job.domain import jsonutil

log = logging.getLogger(__name__)

# serve_forever checks its shutdown flag once per poll: a short poll makes stop() quick.
_POLL_SECONDS = 0.01


@dataclass(frozen=True)
class Request:
    """One parsed HTTP request as a simulator sees it."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # keys lower-cased
    body: bytes = b""

    @property
    def endpoint(self) -> str:
        """Name the endpoint as `METHOD /path`, the key of call counts and fault queues."""
        return f"{self.method} {self.path}"


@dataclass
class Response:
    """One HTTP answer; a handler returning None instead drops the connection unanswered."""

    status: int
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    """Build a JSON response; Decimals are written as exact JSON numbers."""
    body = jsonutil.dumps(payload).encode("utf-8")
    return Response(status, body, headers=dict(headers or {}))


def html_response(status: int, text: str) -> Response:
    """Build an HTML response."""
    return Response(status, text.encode("utf-8"), content_type="text/html; charset=utf-8")


class CallCounter:
    """Thread-safe counts of calls per endpoint and outcome (an HTTP status or a fault name)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def record(self, endpoint: str, outcome: str) -> None:
        """Count one call to `endpoint` that ended with `outcome`."""
        with self._lock:
            self._counts[(endpoint, outcome)] += 1

    def count(self, endpoint: str | None = None, outcome: str | None = None) -> int:
        """Count calls matching an endpoint and/or an outcome (None matches any)."""
        with self._lock:
            return sum(
                n
                for (e, o), n in self._counts.items()
                if endpoint in (None, e) and outcome in (None, o)
            )

    def snapshot(self) -> dict[str, dict[str, int]]:
        """Return `{endpoint: {outcome: count}}`."""
        with self._lock:
            out: dict[str, dict[str, int]] = {}
            for (endpoint, outcome), n in sorted(self._counts.items()):
                out.setdefault(endpoint, {})[outcome] = n
            return out


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its owner and its open connections."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], owner: LoopbackServer) -> None:
        super().__init__(address, _Handler)
        self.owner = owner
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    """Reads a whole request, asks the owner for an answer, writes it (or drops the connection)."""

    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    disable_nagle_algorithm = True  # headers and body go out in separate writes: avoid 40 ms stalls
    server: _HTTPServer

    def setup(self) -> None:
        """Register the connection, so stop() can close it."""
        super().setup()
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        """Forget the connection and close it."""
        with self.server.connections_lock:
            self.server.open_connections.discard(self.connection)
        with contextlib.suppress(OSError):  # the peer went away; nothing left to flush
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and the sandbox print what matters themselves."""

    def do_GET(self) -> None:
        """Serve GET."""
        self._dispatch()

    def do_POST(self) -> None:
        """Serve POST."""
        self._dispatch()

    def do_PUT(self) -> None:
        """Serve PUT."""
        self._dispatch()

    def do_DELETE(self) -> None:
        """Serve DELETE."""
        self._dispatch()

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            return
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            # Form decoding turns a raw "+" into a space, as real servers do: clients must
            # percent-encode values such as page tokens.
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            response = self.server.owner.handle(request)
        except Exception:
            log.exception("simulator failed on %s %s", self.command, self.path)
            response = json_response(500, {"message": "simulator bug, see its log"})
        if response is None:
            self._drop()
        else:
            self._send(response)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding"):
            self._send(json_response(411, {"message": "send Content-Length"}))
            self.close_connection = True
            return None
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:
            self.close_connection = True  # the client gave up (e.g. its timeout fired)

    def _drop(self) -> None:
        """Close the socket without a single byte of answer."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1; subclasses implement `handle`."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = (host, port)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()

    def handle(self, request: Request) -> Response | None:
        """Answer one request; None drops the connection without answering."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:54321` (only once started)."""
        if self._httpd is None:
            raise RuntimeError("server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> str:
        """Bind, serve in a daemon thread, and return the base URL."""
        if self._httpd is not None:
            return self.url
        self.stopping.clear()
        self._httpd = _HTTPServer(self._address, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": _POLL_SECONDS},
            name=f"{type(self).__name__}-http",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving, wake slow handlers and close every open connection."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self.stopping.set()
        httpd.shutdown()
        # Close open keep-alive connections first: server_close() joins their handler threads.
        with httpd.connections_lock:
            connections = list(httpd.open_connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
