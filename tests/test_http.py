"""environment_session: requests' proxy and CA-bundle environment, read once when it is built."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
from requests.utils import select_proxy

from sync_job.net.http import environment_session


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


def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.parametrize(
    "url", ["http://api.example.test/x", "https://api.example.test/x", "http://127.0.0.1:9/x"]
)
def test_settings_match_plain_requests(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """The proxy a request gets (NO_PROXY honoured) and the CA bundle are requests' own."""
    _no_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.test:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3129")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/example-bundle.pem")
    ours = environment_session(url).merge_environment_settings(url, {}, None, None, None)
    theirs = requests.Session().merge_environment_settings(url, {}, None, None, None)
    assert select_proxy(url, ours["proxies"]) == select_proxy(url, theirs["proxies"])
    assert ours["verify"] == theirs["verify"] == "/etc/ssl/certs/example-bundle.pem"


def test_each_host_gets_its_own_proxy_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two hosts of one client (TikTok's API and auth): NO_PROXY may cover only one of them."""
    _no_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.test:3129")
    monkeypatch.setenv("NO_PROXY", "auth.example.test")
    session = environment_session("https://api.example.test", "https://auth.example.test")
    assert select_proxy("https://api.example.test/a", session.proxies) == "http://proxy.test:3129"
    assert select_proxy("https://auth.example.test/b", session.proxies) is None


def test_environment_is_read_when_the_session_is_built(
    monkeypatch: pytest.MonkeyPatch, recorder: str
) -> None:
    """HTTP_PROXY set before the session is made is used; removing it later changes nothing
    (requests does not read the environment per request)."""
    _no_proxy_env(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", recorder)
    session = environment_session("http://dealpos.example.test")
    monkeypatch.delenv("HTTP_PROXY")
    session.get("http://dealpos.example.test/api/v3/Outlet", timeout=5)
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
    environment_session(recorder).get(recorder + "/ours", timeout=5)
    assert Recorder.seen[0][1] is not None and Recorder.seen[0][1].startswith("Basic ")
    assert Recorder.seen[1][1] is None
