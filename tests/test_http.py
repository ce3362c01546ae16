"""EnvOnceSession: requests' proxy and CA-bundle environment, read once per host."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests

from sync_job.net import http
from sync_job.net.http import EnvOnceSession


class Recorder(BaseHTTPRequestHandler):
    """Answers 200 and notes each request line and its Authorization header."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        """Record the request, answer a small JSON body."""
        self.seen.append((self.requestline, self.headers.get("Authorization")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""


@pytest.fixture
def recorder() -> Iterator[str]:
    """A loopback server (it plays the proxy or the origin); yields its URL."""
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "url", ["http://api.example.test/x", "https://api.example.test/x", "http://127.0.0.1:9/x"]
)
def test_merged_settings_match_plain_requests(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Proxies (with NO_PROXY) and the CA bundle come out as requests itself would set them."""
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.test:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3129")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/example-bundle.pem")
    ours = EnvOnceSession().merge_environment_settings(url, {}, None, None, None)
    theirs = requests.Session().merge_environment_settings(url, {}, None, None, None)
    assert ours == theirs
    assert ours["verify"] == "/etc/ssl/certs/example-bundle.pem"


def test_environment_is_read_once_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three requests to one host and one to another read the proxy environment twice."""
    reads: list[str] = []
    real = http.get_environ_proxies
    monkeypatch.setattr(http, "get_environ_proxies", lambda url: reads.append(url) or real(url))
    session = EnvOnceSession()
    for url in ("http://a.test/1", "http://a.test/2", "http://a.test/3", "http://b.test/1"):
        session.merge_environment_settings(url, {}, None, None, None)
    assert reads == ["http://a.test/1", "http://b.test/1"]


def test_requests_go_through_the_proxy_the_environment_names(
    monkeypatch: pytest.MonkeyPatch, recorder: str
) -> None:
    """HTTP_PROXY set before the session is made: a real request reaches the proxy."""
    monkeypatch.setenv("HTTP_PROXY", recorder)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    EnvOnceSession().get("http://dealpos.example.test/api/v3/Outlet", timeout=5)
    assert Recorder.seen[0][0] == "GET http://dealpos.example.test/api/v3/Outlet HTTP/1.1"


def test_netrc_credentials_are_never_added(
    monkeypatch: pytest.MonkeyPatch, recorder: str, tmp_path: Path
) -> None:
    """A ~/.netrc entry for the host adds no Authorization header (plain requests would)."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    requests.Session().get(recorder + "/plain", timeout=5)
    EnvOnceSession().get(recorder + "/ours", timeout=5)
    assert Recorder.seen[0][1] is not None and Recorder.seen[0][1].startswith("Basic ")
    assert Recorder.seen[1][1] is None
