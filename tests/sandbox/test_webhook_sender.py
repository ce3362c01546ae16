"""The TikTok simulator's webhooks: signed, sent on order changes, with TikTok's faults."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.sandbox.server import LoopbackServer, Request, Response, json_response
from sync_job.sandbox.tiktok_sim import TikTokSimulator
from sync_job.sandbox.webhooks import WebhookFaults, WebhookSender
from sync_job.tiktok.signing import verify_webhook

KEY, SECRET, SHOP = "k", "s", "shop-1"


class Catcher(LoopbackServer):
    """Records every POST it gets and answers 200."""

    def __init__(self) -> None:
        super().__init__()
        self.got: list[tuple[dict[str, Any], bool]] = []
        self.lock = threading.Lock()

    def handle(self, request: Request) -> Response | None:
        """Keep the body and whether its signature is right."""
        ok = verify_webhook(KEY, SECRET, request.body, request.headers.get("authorization", ""))
        with self.lock:
            self.got.append((json.loads(request.body), ok))
        return json_response(200, {"code": 0})

    def wait_for(self, n: int, seconds: float = 5.0) -> list[tuple[dict[str, Any], bool]]:
        """Wait until `n` deliveries arrived; return them."""
        deadline = time.monotonic() + seconds
        while len(self.got) < n:
            assert time.monotonic() < deadline, f"only {len(self.got)} of {n} arrived"
            time.sleep(0.01)
        return list(self.got)


@pytest.fixture
def catcher() -> Iterator[Catcher]:
    """A receiver on loopback."""
    with Catcher() as server:
        yield server


def sender(catcher: Catcher, **faults: Any) -> WebhookSender:
    """A started sender pointed at the catcher (one thread: deliveries keep their order)."""
    return WebhookSender(
        catcher.url, KEY, SECRET, faults=WebhookFaults(**faults), threads=1
    ).start()


def test_order_changes_send_signed_notifications_of_the_right_type(catcher: Catcher) -> None:
    """New order → 1; a status change → 1; a return → 12; the webhook says CANCEL, not CANCELLED."""
    sim = TikTokSimulator(KEY, SECRET, [(SHOP, "c")])
    sim.webhooks = sender(catcher)
    gen = LifecycleGenerator(sim, SHOP, seed=1)
    order_id = gen.new_order(status="UNPAID")
    order = sim.order(SHOP, order_id)
    assert order is not None
    sim.put_order(SHOP, {**order, "update_time": order["update_time"] + 1})  # no status change
    sim.put_order(SHOP, {**order, "status": "CANCELLED"})
    pending = "RETURN_OR_REFUND_REQUEST_PENDING"
    ret = {"return_id": "r-1", "order_id": order_id, "return_status": pending,
           "create_time": 1, "update_time": 1}  # fmt: skip
    sim.put_return(SHOP, ret)
    got = catcher.wait_for(3)
    sim.webhooks.stop()
    assert [(b["type"], b["data"]["order_id"], ok) for b, ok in got] == [
        (1, order_id, True), (1, order_id, True), (12, order_id, True),
    ]  # fmt: skip
    assert got[1][0]["data"]["order_status"] == "CANCEL"
    assert got[0][0]["shop_id"] == SHOP and len({b["tts_notification_id"] for b, _ in got}) == 3


def test_faults_drop_duplicate_and_missign(catcher: Catcher) -> None:
    """Shares of dropped, duplicated and badly signed deliveries come out as configured."""
    hooks = sender(catcher, dropped=0.2, duplicated=0.2, bad_signature=0.1, seed=3)
    for n in range(200):
        hooks.notify(SHOP, 1, f"o-{n}", "AWAITING_SHIPMENT")
    expected = 200 - hooks.counts["dropped"] + hooks.counts["duplicated"]
    got = catcher.wait_for(expected)
    hooks.stop()
    assert 20 < hooks.counts["dropped"] < 60 and 15 < hooks.counts["duplicated"] < 60
    ids = [b["tts_notification_id"] for b, _ in got]
    assert len(ids) - len(set(ids)) == hooks.counts["duplicated"]  # a repeat keeps its id
    assert sum(1 for _, ok in got if not ok) >= hooks.counts["bad_signature"] > 0


def test_reordered_and_delayed_deliveries_arrive_late(catcher: Catcher) -> None:
    """A reordered notification follows the next one; a delayed one comes after the delay."""
    hooks = sender(catcher, reordered=1.0, seed=1)
    hooks.notify(SHOP, 1, "first", "UNPAID")
    hooks.notify(SHOP, 1, "second", "UNPAID")
    got = catcher.wait_for(2)
    assert [b["data"]["order_id"] for b, _ in got] == ["second", "first"]
    hooks.stop()
    late = sender(catcher, delayed=1.0, delay_seconds=0.3)
    started = time.monotonic()
    late.notify(SHOP, 1, "late", "UNPAID")
    catcher.wait_for(3)
    assert time.monotonic() - started >= 0.3
    late.stop()


class Refusing(Catcher):
    """Answers 503 to the first `refuse` deliveries, then 200."""

    def __init__(self, refuse: int) -> None:
        super().__init__()
        self.refuse = refuse

    def handle(self, request: Request) -> Response | None:
        """Refuse while `refuse` lasts."""
        super().handle(request)
        with self.lock:
            self.refuse -= 1
            return json_response(503 if self.refuse >= 0 else 200, {})


def test_failed_deliveries_are_retried_on_the_schedule() -> None:
    """Like TikTok (compressed): a refused delivery comes again, up to len(retry_after) times."""
    with Refusing(refuse=2) as receiver:
        hooks = WebhookSender(receiver.url, KEY, SECRET, retry_after=(0.01, 0.01, 0.01)).start()
        hooks.notify(SHOP, 1, "o-1", "UNPAID")
        got = receiver.wait_for(3)
        hooks.stop()
    assert len({b["tts_notification_id"] for b, _ in got}) == 1  # the same notification
    assert hooks.counts["retried"] == 2 and hooks.counts["answered 200"] == 1
