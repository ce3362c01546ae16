"""Real sockets: how urllib3 reports a refused connection versus one dropped after sending."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync_job.dealpos import DealposClient, Pacer
from sync_job.domain.errors import OutcomeUnknown, TransientError
from tests.dealpos.dealpos_fakes import CLIENT_ID, CLIENT_SECRET, FakeClock, a_draft

TOKEN_ANSWER = b'{"access_token":"tok-1","token_type":"Bearer","expires_in":3600}'


class DropAfterReading(BaseHTTPRequestHandler):
    """Answers the token call; reads any other request fully, then hangs up without answering."""

    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        """Serve the token, or drop the connection after reading the body."""
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path.endswith("/Token/OAuth2"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(TOKEN_ANSWER)))
            self.end_headers()
            self.wfile.write(TOKEN_ANSWER)
            return
        self.close_connection = True  # the request arrived; the answer never leaves

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    """A loopback HTTP server running DropAfterReading."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), DropAfterReading)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def loopback_client(httpd: ThreadingHTTPServer, fake: FakeClock) -> DealposClient:
    """A client for the loopback server (no pacing limit, fake clock)."""
    host, port = httpd.server_address[:2]
    return DealposClient(
        base_url=f"http://{host!s}:{port}",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        pacer=Pacer(0, 0, clock=fake.clock, sleep=fake.sleep),
        timeout=5.0,
    )


def test_connection_dropped_after_sending_a_create_is_outcome_unknown(
    server: ThreadingHTTPServer, fake: FakeClock
) -> None:
    """A create the server read but never answered may have been applied: OutcomeUnknown."""
    client = loopback_client(server, fake)
    with pytest.raises(OutcomeUnknown, match="may have been applied"):
        client.create_invoice(a_draft("TT-1"))


def test_connection_refused_on_a_create_is_plain_transient(
    server: ThreadingHTTPServer, fake: FakeClock
) -> None:
    """A create that could not even connect never left: plain TransientError, no lookup needed."""
    client = loopback_client(server, fake)
    with pytest.raises(OutcomeUnknown):  # fetches the token while the server is still up
        client.create_invoice(a_draft("TT-1"))
    server.shutdown()
    server.server_close()
    with pytest.raises(TransientError) as caught:
        client.create_invoice(a_draft("TT-2"))
    assert type(caught.value) is TransientError
    assert "ConnectionError" in str(caught.value)
