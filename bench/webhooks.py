"""Webhook figures: how soon a paid order reaches DealPOS, and how a burst of deliveries is taken.

The real daemon (`python -m sync_job run`) runs against both simulators with `[webhook] listen`
on loopback; the TikTok simulator pushes signed webhooks as orders change.

- webhook_latency_p50/p95: 200 orders become paid over 60 s (20 s with --quick), interval 300 s,
  so no cycle runs meanwhile and only webhooks explain a write. Latency = the simulator's change
  → DealPOS accepting the invoice. For comparison the same workload runs without webhooks, on a
  shorter interval (20 s, lag 5 s) so the figure stays under three minutes: polling alone costs
  about interval + lag, i.e. ~180 s with the defaults (60 s + 120 s).
- webhook_burst: 1,000 signed notifications for 1,000 different paid orders in one second from
  20 threads: the p99 answer time, and the detail calls the daemon made for them.

DealPOS's quota is off here (the loopback simulator answers at once): with its real 50 calls per
180 s, a burst of orders waits for the quota whatever triggers the push.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench import harness
from bench.report import Line
from sync_job.sandbox import defaults
from sync_job.sandbox.catalogue import dealpos_variants
from sync_job.sandbox.server import Request, Response
from sync_job.sandbox.tiktok_sim import TikTokSimulator
from sync_job.sandbox.webhooks import WebhookSender
from sync_job.tiktok.signing import webhook_signature

PATH = "/tiktok/webhook"
DETAIL = "GET /order/202309/orders"
TARGET_P95, TARGET_ANSWER_P99 = 2.0, 1.0


class WriteTimes(harness.TimedDealpos):
    """The DealPOS simulator, noting when each order's invoice was created (monotonic)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.created: dict[str, float] = {}

    def handle(self, request: Request) -> Response | None:
        """Answer, then note a successful create by its ReferenceNumber (the order id)."""
        response = super().handle(request)
        create = request.method == "POST" and request.path.lower() == "/api/v3/invoice"
        if create and response and response.status < 300:
            reference = str(json.loads(request.body).get("ReferenceNumber"))
            self.created.setdefault(reference, time.monotonic())
        return response


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Rig:
    """Both simulators and the daemon's config; `listen` is None without webhooks."""

    tiktok: TikTokSimulator
    dealpos: WriteTimes
    folder: Path
    listen: str | None

    @property
    def url(self) -> str:
        """The receiver's URL."""
        return f"http://{self.listen}{PATH}"


@contextmanager
def rig(*, webhooks: bool, interval: int, lag: int) -> Iterator[Rig]:
    """Simulators plus a running daemon (first cycle done), all stopped on the way out."""
    tiktok = harness.start_tiktok()
    dealpos = WriteTimes(
        defaults.DEALPOS_CLIENT_ID,
        defaults.DEALPOS_CLIENT_SECRET,
        variants=dealpos_variants(),
        outlets=[defaults.DEALPOS_OUTLET],
        payment_methods=[defaults.DEALPOS_PAYMENT_METHOD],
        rate_limit=harness.NO_LIMIT,
        rate_window_seconds=1.0,
    )
    dealpos.start()
    with harness.running(tiktok, dealpos), tempfile.TemporaryDirectory() as tmp:
        box = Rig(tiktok, dealpos, Path(tmp), f"127.0.0.1:{_free_port()}" if webhooks else None)
        proc = _start_daemon(box, interval, lag)
        try:
            yield box
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=40)


def _start_daemon(box: Rig, interval: int, lag: int) -> subprocess.Popen[bytes]:
    data = harness.settings(
        box.tiktok,
        box.dealpos,
        box.folder / "sync.db",
        sync__lag_seconds=lag,
        sync__overlap_seconds=max(lag, 1) + 5,
    )
    data["schedule"] = {"interval_seconds": interval, "jitter_seconds": 0}
    if box.listen is not None:
        data["webhook"] = {"listen": box.listen, "path": PATH}
    config = box.folder / "config.toml"
    config.write_text(harness.toml_text(data))
    command = [sys.executable, "-m", "sync_job", "--config", str(config), "run"]
    with (box.folder / "daemon.log").open("wb") as log:
        proc = subprocess.Popen(command, cwd=harness.ROOT, stdout=subprocess.DEVNULL, stderr=log)
    _wait_first_cycle(box.folder / "sync.db", proc)
    return proc


def _wait_first_cycle(db: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the daemon exited {proc.returncode}")
        if db.exists():
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                done = conn.execute("SELECT 1 FROM runs WHERE finished_at IS NOT NULL").fetchone()
            except sqlite3.OperationalError:
                done = None
            finally:
                conn.close()
            if done:
                return
        time.sleep(0.1)
    raise RuntimeError("the daemon's first cycle did not finish within 60 s")


def _pay_orders(box: Rig, orders: int, seconds: float) -> dict[str, float]:
    """Make `orders` new paid orders, evenly over `seconds`; return order id → change time."""
    gen = harness.generator(box.tiktok, time.time, seed=orders)
    changed: dict[str, float] = {}
    start = time.monotonic()
    for n in range(orders):
        delay = start + n * seconds / orders - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        changed[gen.new_order(status="AWAITING_SHIPMENT")] = time.monotonic()
    return changed


def _latencies(box: Rig, changed: dict[str, float], wait: float) -> list[float]:
    deadline = time.monotonic() + wait
    while len(box.dealpos.created.keys() & changed.keys()) < len(changed):
        if time.monotonic() > deadline:
            missing = len(changed) - len(box.dealpos.created.keys() & changed.keys())
            log = (box.folder / "daemon.log").read_text()[-3000:]
            raise RuntimeError(f"{missing} of {len(changed)} orders never reached DealPOS\n{log}")
        time.sleep(0.1)
    return sorted(box.dealpos.created[o] - t for o, t in changed.items())


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def latency(quick: bool) -> list[Line]:
    """p50/p95 of paid → invoiced with webhooks (interval 300 s), and polling alone."""
    orders, seconds = 200, (20.0 if quick else 60.0)
    with rig(webhooks=True, interval=300, lag=120) as box:
        sender = WebhookSender(box.url, box.tiktok.app_key, box.tiktok.app_secret).start()
        box.tiktok.webhooks = sender
        try:
            hooked = _latencies(box, _pay_orders(box, orders, seconds), 30)
        finally:
            sender.stop()
        detail = box.tiktok.calls.count(DETAIL)
    with rig(webhooks=False, interval=20, lag=5) as box:
        polled = _latencies(box, _pay_orders(box, orders, seconds), 90)
    p95 = _percentile(hooked, 0.95)
    note = f"{orders} orders paid over {seconds:g} s, interval 300 s"
    return [
        Line("webhook_latency_p50", f"{_percentile(hooked, 0.5):.2f} s", note),
        Line(
            "webhook_latency_p95",
            f"{p95:.2f} s",
            f"target <= {TARGET_P95:g} s; {note}",
            p95 <= TARGET_P95,
        ),
        Line("webhook_latency_max", f"{hooked[-1]:.2f} s", f"{detail} detail calls"),
        Line(
            "polling_latency_p50/p95",
            f"{_percentile(polled, 0.5):.1f} / {_percentile(polled, 0.95):.1f} s",
            "same workload without webhooks, interval 20 s + lag 5 s (the defaults: 60 + 120 s)",
        ),
    ]


def _fire(url: str, bodies: list[bytes], start: float, gap: float) -> list[tuple[int, float]]:
    """Send `bodies` at `start + i * gap` each (one keep-alive session); note status and time."""
    session = requests.Session()
    answers = []
    for i, body in enumerate(bodies):
        delay = start + i * gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        header = webhook_signature(defaults.TIKTOK_APP_KEY, defaults.TIKTOK_APP_SECRET, body)
        sent = time.monotonic()
        try:
            status = session.post(url, data=body, headers={"Authorization": header}, timeout=10)
            answers.append((status.status_code, time.monotonic() - sent))
        except requests.RequestException:
            answers.append((0, time.monotonic() - sent))
    return answers


def _burst_bodies(order_ids: list[str], tag: str = "burst") -> list[bytes]:
    now = int(time.time())
    return [
        json.dumps({"type": 1, "tts_notification_id": f"{tag}{n:06d}", "shop_id": harness.SHOP,
                    "timestamp": now, "data": {"order_id": oid, "order_status": "AWAITING_SHIPMENT",
                                               "update_time": now}}).encode()
        for n, oid in enumerate(order_ids)
    ]  # fmt: skip


def burst(quick: bool) -> list[Line]:
    """1,000 notifications in one second: p99 answer time and detail calls."""
    orders, threads = (300 if quick else 1000), 20
    with rig(webhooks=True, interval=300, lag=120) as box:
        gen = harness.generator(box.tiktok, lambda: time.time() - 200, seed=7)
        ids = [gen.new_order(status="AWAITING_SHIPMENT") for _ in range(orders)]
        bodies = _burst_bodies(ids)
        start = time.monotonic() + 0.5
        results: list[list[tuple[int, float]]] = [[] for _ in range(threads)]
        gap = threads / orders  # each thread sends every `gap` s: all of them within 1 s

        def worker(k: int) -> None:
            results[k] = _fire(box.url, bodies[k::threads], start + k / orders, gap)

        pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        answers = [a for part in results for a in part]
        _latencies(box, dict.fromkeys(ids, start), 120)
        detail = box.tiktok.calls.count(DETAIL)
        during, pushed = _while_pushing(box, gen)
    ok = sum(1 for status, _ in answers if status == 200)
    times = [s for _, s in answers]
    p50, p99 = _percentile(times, 0.5), _percentile(times, 0.99)
    limit = math.ceil(orders / 50) + 2
    return [
        Line(
            "webhook_burst_answer_p99",
            f"{p99 * 1000:.0f} ms",
            f"target <= {TARGET_ANSWER_P99 * 1000:.0f} ms; {ok} of {len(answers)} answered 200; "
            f"{orders} in 1 s from {threads} threads",
            p99 <= TARGET_ANSWER_P99 and ok == orders,
        ),
        Line(
            "webhook_burst_answer_p50/max",
            f"{p50 * 1000:.0f} / {max(times) * 1000:.0f} ms",
            "send -> 200",
        ),
        Line(
            "webhook_burst_detail_calls",
            str(detail),
            f"target <= {limit} (ceil({orders}/50) + 2)",
            detail <= limit,
        ),
        Line(
            "webhook_answer_while_pushing_p99",
            f"{_percentile([t for _, t in during], 0.99) * 1000:.0f} ms",
            f"{len(during)} deliveries over 2 s while a round pushed invoices "
            f"{pushed[0]}..{pushed[1]} of another burst of 300",
        ),
        Line(
            "webhook_burst_cpus", str(os.cpu_count()), "CPUs shared by the senders and the daemon"
        ),
    ]


def _send(url: str, bodies: list[bytes], threads: int, seconds: float) -> list[tuple[int, float]]:
    """Send `bodies` evenly over `seconds` from `threads` threads; every (status, answer time)."""
    start = time.monotonic() + 0.2
    results: list[list[tuple[int, float]]] = [[] for _ in range(threads)]
    gap = threads * seconds / len(bodies)

    def worker(k: int) -> None:
        results[k] = _fire(url, bodies[k::threads], start + k * seconds / len(bodies), gap)

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return [a for part in results for a in part]


def _while_pushing(
    box: Rig, gen: Any, orders: int = 300, more: int = 100
) -> tuple[list[tuple[int, float]], tuple[int, int]]:
    """A burst of `orders` more; once its round pushes, `more` deliveries over 2 s.

    Returns their answers and how far the push got meanwhile (invoices created, of all).
    """
    before = len(box.dealpos.created)
    bodies = _burst_bodies([gen.new_order(status="AWAITING_SHIPMENT") for _ in range(orders)], "b")
    _send(box.url, bodies, 10, 1.0)
    deadline = time.monotonic() + 60
    while len(box.dealpos.created) < before + 20:  # the round is pushing now
        if time.monotonic() > deadline:
            raise RuntimeError("the second burst's round did not start pushing within 60 s")
        time.sleep(0.02)
    first = len(box.dealpos.created) - before
    late = _burst_bodies([gen.new_order(status="AWAITING_SHIPMENT") for _ in range(more)], "c")
    answers = _send(box.url, late, 5, 2.0)
    return answers, (first, len(box.dealpos.created) - before)
