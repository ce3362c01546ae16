"""The webhook receiver: what each delivery is answered, and what is stored (a real SQLite file)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import structlog
from flask.testing import FlaskClient

from sync_job.domain.notification import Notification
from sync_job.service.serve import start_server
from sync_job.service.webhook import Receiver, create_webhook_app
from sync_job.state.inbox import InboxWriter, pending_notifications, webhook_health
from sync_job.state.store import Store
from sync_job.tiktok.signing import webhook_signature

APP_KEY, APP_SECRET = "wh-app-key", "wh-app-secret-Z9Q"
SHOP = "7495000000000000099"
PATH = "/tiktok/webhook"


def body(
    notification_id: str = "n-1", *, shop_id: str = SHOP, kind: Any = 1, order_id: str = "576001"
) -> bytes:
    """A notification as TikTok sends it (the webhook's status is deliberately the odd `CANCEL`)."""
    payload = {
        "type": kind,
        "tts_notification_id": notification_id,
        "shop_id": shop_id,
        "timestamp": 1_767_225_600,
        "data": {"order_id": order_id, "order_status": "CANCEL", "update_time": 1_767_225_600},
    }
    return json.dumps(payload).encode()


def signed(raw: bytes) -> dict[str, str]:
    """The Authorization header TikTok would send with `raw`."""
    return {"Authorization": webhook_signature(APP_KEY, APP_SECRET, raw)}


class Harness:
    """A receiver on a real state file, its Flask test client and a wake counter."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "state" / "sync.db"
        self.inbox = InboxWriter.open(self.path)
        self.woken = 0
        receiver = Receiver(APP_KEY, APP_SECRET, {SHOP}, self.inbox, self._wake)
        self.client: FlaskClient = create_webhook_app(receiver, PATH).test_client()

    def _wake(self) -> None:
        self.woken += 1

    def post(self, raw: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """POST raw bytes; return (status, parsed answer)."""
        answer = self.client.post(PATH, data=raw, headers=headers if headers is not None else {})
        return answer.status_code, answer.get_json(silent=True)

    def stored(self) -> list[tuple[str, str, str | None]]:
        """(notification id, shop, order id) of every stored notification."""
        store = Store.open(self.path)
        try:
            return [
                (r.notification_id, r.shop_id, r.order_id)
                for r in pending_notifications(store.db, 100)
            ]
        finally:
            store.close()

    def health(self) -> dict[str, Any]:
        """The counters as `status` shows them."""
        store = Store.open(self.path)
        try:
            return webhook_health(store.db)
        finally:
            store.close()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    """A receiver on a fresh state file."""
    h = Harness(tmp_path)
    yield h
    h.inbox.close()


def test_signed_notification_is_stored_and_wakes_the_trigger(harness: Harness) -> None:
    """A correctly signed delivery is on disk when the 200 goes out, and wakes the trigger once."""
    raw = body()
    assert harness.post(raw, signed(raw))[0] == 200
    assert harness.stored() == [("n-1", SHOP, "576001")]
    assert harness.woken == 1
    assert harness.health()["received"] == 1


def test_repeated_notification_is_answered_200_and_ignored(harness: Harness) -> None:
    """TikTok delivers at least once: a repeat is 200, stored once, counted as a duplicate."""
    raw = body()
    assert harness.post(raw, signed(raw))[0] == 200
    status, answer = harness.post(raw, signed(raw))
    assert (status, answer["message"]) == (200, "duplicate, ignored")
    assert len(harness.stored()) == 1
    assert harness.woken == 1
    health = harness.health()
    assert (health["received"], health["duplicate"]) == (1, 1)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "0" * 64},
        {"Authorization": webhook_signature(APP_KEY, "another-secret", body())},
        {"Authorization": webhook_signature("another-key", APP_SECRET, body())},
    ],
    ids=["missing", "zeros", "wrong-secret", "wrong-key"],
)
def test_bad_signature_is_401_and_nothing_is_stored(
    harness: Harness, headers: dict[str, str]
) -> None:
    """Without the right HMAC of app_key + raw body: 401, nothing stored, nothing woken."""
    assert harness.post(body(), headers)[0] == 401
    assert harness.stored() == []
    assert harness.woken == 0
    assert harness.health()["rejected"] == 1


def test_signature_covers_the_raw_bytes(harness: Harness) -> None:
    """The same JSON re-serialised (a space added) no longer matches the signature."""
    raw = body()
    assert harness.post(raw.replace(b'"type": 1', b'"type":  1'), signed(raw))[0] == 401


def test_body_over_64_kib_is_413_before_anything_else(harness: Harness) -> None:
    """An oversize body is refused by size, even when signed."""
    raw = body() + b" " * (64 * 1024)
    assert harness.post(raw, signed(raw))[0] == 413
    assert harness.stored() == []


def test_body_of_exactly_64_kib_is_accepted(harness: Harness) -> None:
    """The limit is inclusive: 64 KiB of (padded) JSON is still read."""
    start = body()
    raw = start + b" " * (64 * 1024 - len(start))
    assert harness.post(raw, signed(raw))[0] == 200


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[1, 2]", body(kind=None), body(kind="one"), b'{"type": 1}'],
    ids=["not-json", "array", "no-type", "text-type", "no-ids"],
)
def test_unusable_body_is_400_and_nothing_is_stored(harness: Harness, raw: bytes) -> None:
    """Signed but not JSON, or without `type` (or the ids): 400, nothing stored."""
    assert harness.post(raw, signed(raw))[0] == 400
    assert harness.stored() == []


def test_unknown_shop_is_answered_200_and_ignored(harness: Harness) -> None:
    """A shop this job does not sync: 200 (TikTok must not retry), nothing stored, counted."""
    raw = body(shop_id="7495000000000000000")
    with structlog.testing.capture_logs() as logs:
        assert harness.post(raw, signed(raw))[0] == 200
    assert harness.stored() == []
    assert harness.health()["unknown_shop"] == 1
    assert any(e.get("shop_id") == "7495000000000000000" for e in logs)


def test_other_event_types_are_stored_without_an_order_to_fetch(harness: Harness) -> None:
    """A type the job does not act on is kept (for dedup and counts) but names no order."""
    raw = body(kind=4)
    assert harness.post(raw, signed(raw))[0] == 200
    assert harness.stored() == [("n-1", SHOP, None)]


def test_only_post_on_the_configured_path(harness: Harness) -> None:
    """GET on the path is 405, another path 404."""
    assert harness.client.get(PATH).status_code == 405
    raw = body()
    assert harness.client.post("/other", data=raw, headers=signed(raw)).status_code == 404


def test_neither_the_header_nor_the_body_reaches_the_logs(harness: Harness) -> None:
    """Every outcome is logged without the signature or the payload."""
    raw = body(order_id="576777")
    header = signed(raw)
    with structlog.testing.capture_logs() as logs:
        harness.post(raw, header)
        harness.post(raw, {"Authorization": "f" * 64})
        harness.post(b"not json", signed(b"not json"))
    text = repr(logs)
    assert header["Authorization"] not in text and "f" * 64 not in text
    assert "CANCEL" not in text and "not json" not in text


def test_database_busy_is_503_so_tiktok_retries(harness: Harness) -> None:
    """When the write lock cannot be had in time, the answer is 503, never a 200 unstored."""
    other = sqlite3.connect(str(harness.path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        raw = body()
        assert harness.post(raw, signed(raw))[0] == 503
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert harness.stored() == []
    assert harness.post(raw, signed(raw))[0] == 200


def test_concurrent_deliveries_share_commits_and_are_each_stored_once(tmp_path: Path) -> None:
    """Eight threads storing 50 notifications each (every one twice): 400 stored, 400 repeats."""
    writer = InboxWriter.open(tmp_path / "sync.db")
    commits: list[int] = []
    original = writer._write

    def counting(batch: Any) -> None:
        commits.append(len(batch))
        original(batch)

    writer._write = counting  # type: ignore[method-assign]
    results: list[bool] = []

    def deliver(k: int) -> None:
        for n in range(50):
            note = Notification(f"n-{k}-{n}", 1, SHOP, None, "o")
            results.extend([writer.store(note), writer.store(note)])

    threads = [threading.Thread(target=deliver, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    assert results.count(True) == 400 and results.count(False) == 400
    assert sum(commits) == 800
    store = Store.open(tmp_path / "sync.db")
    health = webhook_health(store.db)
    store.close()
    assert (health["received"], health["duplicate"], health["pending"]) == (400, 400, 400)


def test_chunked_body_over_64_kib_is_413_through_waitress(harness: Harness) -> None:
    """Without a Content-Length (chunked), the limit still holds on the real server."""
    receiver = Receiver(APP_KEY, APP_SECRET, {SHOP}, harness.inbox)
    server = start_server(create_webhook_app(receiver, PATH), "127.0.0.1:0", name="test-webhook")
    try:
        raw = body() + b" " * (64 * 1024)
        chunks = (raw[i : i + 8192] for i in range(0, len(raw), 8192))
        url = f"http://127.0.0.1:{server.port}{PATH}"
        answer = requests.post(url, data=chunks, headers=signed(raw), timeout=10)
        assert answer.status_code == 413
        small = body("n-2")
        parts = (small[i : i + 10] for i in range(0, len(small), 10))
        assert requests.post(url, data=parts, headers=signed(small), timeout=10).status_code == 200
    finally:
        server.stop()
    assert harness.stored() == [("n-2", SHOP, "576001")]
