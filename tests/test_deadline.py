"""Every request has a total deadline and a body cap: a dripping server or a gzip bomb cannot
keep a run busy for minutes or blow up its memory (both clients, over real loopback HTTP)."""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import requests

from sync_job.dealpos.client import DealposClient
from sync_job.dealpos.pacer import Pacer
from sync_job.domain.errors import OutcomeUnknown, TransientError
from sync_job.domain.invoice import Customer, InvoiceDraft, InvoiceLine
from sync_job.domain.model import Tokens, Window
from sync_job.net.deadline import BodyTooLarge, DeadlineExceeded, request_bounded
from sync_job.tiktok.client import TikTokClient

DRAFT = InvoiceDraft(
    "Online Store", "TT-1", "2026-11-27", "TikTok", "1", "Unsent", Customer("A"),
    (InvoiceLine("SKU", 1, Decimal(1), Decimal(0), ""),), "",
)  # fmt: skip

DRIP_BYTES = 200  # at 20 ms a byte: 4 s of dripping, far beyond the deadlines below
BOMB = gzip.compress(b"0" * (100 * 1024 * 1024), compresslevel=9)  # ~100 KB -> 100 MiB


class Awkward(BaseHTTPRequestHandler):
    """`mode` "drip": headers at once, then the body a byte every 20 ms; "bomb": a gzip bomb."""

    mode: ClassVar[str] = "drip"
    disable_nagle_algorithm = True

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path.endswith("/Token/OAuth2"):
            self._send(b'{"access_token": "tok", "expires_in": 3600}')
        elif self.mode == "bomb":
            self._send(BOMB, encoding="gzip")
        else:
            self._drip()

    def _send(self, body: bytes, encoding: str | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(DRIP_BYTES))
        self.end_headers()
        try:
            for _ in range(DRIP_BYTES):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.02)
        except OSError:
            pass  # the client gave up: that is the point

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""


@pytest.fixture
def awkward() -> Iterator[str]:
    """The awkward server on loopback; yields its URL."""
    Awkward.mode = "drip"
    server = ThreadingHTTPServer(("127.0.0.1", 0), Awkward)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def timed(fn: Any) -> float:
    """Seconds `fn()` took."""
    began = time.monotonic()
    fn()
    return time.monotonic() - began


def test_a_dripped_body_ends_at_the_total_deadline(awkward: str) -> None:
    """1 byte per 20 ms, each read well within the 0.5 s read timeout: still over at ~0.5 s."""

    def call() -> None:
        with pytest.raises(DeadlineExceeded):
            request_bounded(requests.Session(), "GET", awkward + "/x", timeout=0.5)

    assert timed(call) < 1.5  # per-read timeouts alone: the whole 4 s drip


def test_a_gzip_bomb_stops_at_the_cap_without_expanding(awkward: str) -> None:
    """~100 KB gzip expanding to 100 MiB: stopped at the 32 MiB cap, memory stays near it."""
    Awkward.mode = "bomb"
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge, match="larger than 33554432 bytes"):
            request_bounded(requests.Session(), "GET", awkward + "/x", timeout=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 48 * 1024 * 1024


def test_small_answers_read_as_before(awkward: str) -> None:
    """An ordinary answer: the same status, headers and content as a plain request."""
    response = request_bounded(requests.Session(), "POST", awkward + "/api/v3/Token/OAuth2",
                               timeout=5, data=b"{}")  # fmt: skip
    assert response.status_code == 200 and response.json()["access_token"] == "tok"


class NoTokens:
    """A token store with nothing saved."""

    def load_tokens(self, app_key: str) -> Tokens | None:
        """Nothing saved."""
        return None

    def save_tokens(self, app_key: str, tokens: Tokens) -> None:
        """Never called here."""

    def tokens_locked(self) -> contextlib.AbstractContextManager[None]:
        """No other process writes tokens here: nothing to lock."""
        return contextlib.nullcontext()


def test_tiktok_client_gives_up_on_a_dripping_answer_at_its_timeout(awkward: str) -> None:
    """TikTok with timeout 0.5 s and one try: the dripped search fails in about 0.5 s."""
    client = TikTokClient(
        base_url=awkward, auth_url=awkward, app_key="k", app_secret="s",
        initial_tokens=Tokens("a", 0, "r", 0), token_store=NoTokens(), timeout=0.5,
        max_attempts=1, sleep=lambda s: None,
    )  # fmt: skip

    def call() -> None:
        with pytest.raises(TransientError):
            list(client.iter_orders("cipher", Window(1, 2)))

    assert timed(call) < 1.5


@pytest.mark.parametrize("mode", ["drip", "bomb"])
def test_dealpos_client_treats_a_dripping_or_huge_answer_as_in_doubt(
    awkward: str, mode: str
) -> None:
    """DealPOS create with timeout 0.5 s: a drip or a bomb is an unknown outcome, quickly."""
    Awkward.mode = mode
    client = DealposClient(base_url=awkward, client_id="c", client_secret="s",
                           pacer=Pacer(0, 1), timeout=0.5)  # fmt: skip

    def call() -> None:
        with pytest.raises(OutcomeUnknown):
            client.create_invoice(DRAFT)

    assert timed(call) < 3
