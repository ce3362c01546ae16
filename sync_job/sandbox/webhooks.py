"""The TikTok simulator's webhook sender: signed notifications to a URL, with TikTok's habits.

Real deliveries are at-least-once and lossy, so the sender can drop, duplicate, delay, reorder
and mis-sign them (shares drawn from a seeded RNG). It posts from its own threads, so changing an
order never waits on the receiver.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import requests

from sync_job.tiktok.signing import webhook_signature

SEND_TIMEOUT_SECONDS = 3.0  # TikTok counts a delivery failed after 3 s


@dataclass(frozen=True)
class WebhookFaults:
    """Shares (0..1) of notifications that meet each fault."""

    dropped: float = 0.0  # never delivered (TikTok gave up after its retries)
    duplicated: float = 0.0  # delivered twice
    delayed: float = 0.0  # delivered `delay_seconds` late
    reordered: float = 0.0  # held back until the next one is sent
    bad_signature: float = 0.0  # delivered with a wrong Authorization header
    delay_seconds: float = 2.0
    seed: int = 0


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    body: bytes
    signature: str
    attempt: int = 0


class WebhookSender:
    """Posts signed notifications to `url` on background threads until stopped."""

    def __init__(
        self,
        url: str,
        app_key: str,
        app_secret: str,
        *,
        faults: WebhookFaults | None = None,
        threads: int = 2,
        retry_after: tuple[float, ...] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`retry_after`: seconds before each redelivery of a failed delivery (TikTok: 2 min,
        30 min, 3 h, 12 h); empty = a failed delivery is gone."""
        self.url, self.app_key, self.app_secret = url, app_key, app_secret
        self.retry_after = retry_after
        self.faults = faults or WebhookFaults()
        self.clock = clock
        self.counts: Counter[str] = Counter()
        self._rng = random.Random(self.faults.seed)
        self._ids = itertools.count(1)
        self._queue: list[_Due] = []
        self._held: _Due | None = None  # a reordered notification, sent after the next one
        self._cond = threading.Condition()
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._run, name=f"webhook-sender-{n}", daemon=True)
            for n in range(threads)
        ]

    def start(self) -> WebhookSender:
        """Start the sending threads."""
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop sending (anything still queued is dropped)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=SEND_TIMEOUT_SECONDS + 1)

    def notify(self, shop_id: str, kind: int, order_id: str, order_status: str) -> None:
        """Queue one notification about an order (drawing its faults)."""
        now = int(self.clock())
        payload = {
            "type": kind,
            "tts_notification_id": f"{now}{next(self._ids):08d}",
            "shop_id": shop_id,
            "timestamp": now,
            # TikTok's webhook spells the cancelled status `CANCEL`: receivers must not trust it.
            "data": {"order_id": order_id, "order_status": _webhook_status(order_status),
                     "update_time": now},
        }  # fmt: skip
        self._enqueue(json.dumps(payload, separators=(",", ":")).encode())

    def _enqueue(self, body: bytes) -> None:
        f = self.faults
        with self._cond:
            roll = self._rng.random
            if roll() < f.dropped:
                self.counts["dropped"] += 1
                return
            signature = webhook_signature(self.app_key, self.app_secret, body)
            if roll() < f.bad_signature:
                self.counts["bad_signature"] += 1
                signature = "0" * len(signature)
            at = time.monotonic() + (f.delay_seconds if roll() < f.delayed else 0.0)
            copies = 2 if roll() < f.duplicated else 1
            self.counts["duplicated"] += copies - 1
            due = [_Due(at, next(self._ids), body, signature) for _ in range(copies)]
            if roll() < f.reordered and self._held is None:
                self.counts["reordered"] += 1
                self._held, due = due[0], due[1:]
            elif self._held is not None:  # the held one goes out right after this one
                due.append(_Due(at, next(self._ids), self._held.body, self._held.signature))
                self._held = None
            for item in due:
                heapq.heappush(self._queue, item)
            self._cond.notify_all()

    def _next(self) -> _Due | None:
        with self._cond:
            while not self._stopping:
                wait = self._queue[0].at - time.monotonic() if self._queue else None
                if wait is not None and wait <= 0:
                    return heapq.heappop(self._queue)
                self._cond.wait(wait)
            return None

    def _run(self) -> None:
        session = requests.Session()
        while (item := self._next()) is not None:
            try:
                answer = session.post(
                    self.url,
                    data=item.body,
                    headers={"Authorization": item.signature, "Content-Type": "application/json"},
                    timeout=SEND_TIMEOUT_SECONDS,
                )
                outcome = str(answer.status_code)
            except requests.RequestException as exc:
                outcome = type(exc).__name__
            with self._cond:
                self.counts[f"answered {outcome}"] += 1
                if outcome != "200" and item.attempt < len(self.retry_after):
                    self._retry(item)

    def _retry(self, item: _Due) -> None:
        """Deliver a failed notification again later (called holding the condition)."""
        self.counts["retried"] += 1
        at = time.monotonic() + self.retry_after[item.attempt]
        heapq.heappush(
            self._queue, _Due(at, next(self._ids), item.body, item.signature, item.attempt + 1)
        )
        self._cond.notify_all()

    def flush(self) -> None:
        """Send a notification held back for reordering (nothing comes after it)."""
        with self._cond:
            if self._held is not None:
                heapq.heappush(self._queue, self._held)
                self._held = None
                self._cond.notify_all()


def _webhook_status(status: str) -> str:
    return "CANCEL" if status == "CANCELLED" else status
