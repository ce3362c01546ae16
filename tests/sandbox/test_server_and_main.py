"""The loopback server base and the standalone command."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys

import requests

from sync_job.sandbox.server import LoopbackServer, Request, Response, json_response


class _Echo(LoopbackServer):
    def handle(self, request: Request) -> Response | None:
        if request.path == "/drop":
            return None
        return json_response(
            200, {"path": request.path, "q": dict(request.query), "n": len(request.body)}
        )


def test_keep_alive_calls_are_exact_over_one_connection_with_nagle_off() -> None:
    """Many calls over one keep-alive connection, each answer exact; the server's socket has
    Nagle's algorithm off (headers and body are separate writes: with it on, every call would
    stall ~40 ms on the client's delayed ACK). How fast a call is: bench `sandbox_keepalive`."""
    with _Echo() as server, requests.Session() as http:
        for n in range(200):
            r = http.post(server.url + "/echo", params={"t": "a+b/c"}, data=b"x" * n, timeout=5)
            assert r.json() == {"path": "/echo", "q": {"t": "a+b/c"}, "n": n}
            assert r.headers["Content-Length"] == str(len(r.content))
        httpd = server._httpd  # the server's side of the connection (no public handle on it)
        assert httpd is not None
        with httpd.connections_lock:
            (connection,) = httpd.open_connections  # still open: the session kept it alive
            assert connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_stop_closes_idle_keep_alive_connections() -> None:
    """After stop(), a pooled connection is gone and the port no longer answers."""
    server = _Echo()
    url = server.start()
    with requests.Session() as http:
        assert http.get(url + "/a", timeout=5).ok
        server.stop()
        try:
            http.get(url + "/a", timeout=1)
            raise AssertionError("server still answers after stop()")
        except requests.ConnectionError:
            pass


def test_standalone_command_serves_until_interrupted() -> None:
    """`python -m sync_job.sandbox dealpos` prints its URL, serves, and exits 0 on Ctrl-C."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync_job.sandbox", "dealpos", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        # A shell running the suite in the background ignores SIGINT, and children inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert match, first
        assert requests.get(match.group(0) + "/_sandbox/state", timeout=5).json()["invoices"] == []
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0  # generous: CI machines are shared and slow at times
    finally:
        proc.kill()
        proc.wait()
