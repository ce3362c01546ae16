"""Prometheus metrics: served by the daemon (`[metrics] listen`) or written to a textfile after
`once` / `backfill` (`[metrics] textfile`, for node_exporter's textfile collector).

Everything lives on a private registry, so nothing else in the process (or in tests) leaks in.
Values that need the state database are read after each cycle in the cycle's own thread: the
HTTP server's threads never touch the SQLite connection. Cursor lag is the exception that is
computed at scrape time, from the cursor positions noted after the last cycle, so it keeps
growing when cycles stop advancing.

In a textfile written by a one-shot command the `_total` counters hold that run's counts only
(the process lives for one run); alert on the gauges (last success, lag, outbox, attention).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import partial
from pathlib import Path
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest, start_http_server

from sync_job.domain.windows import STREAMS
from sync_job.engine.cycle import CycleResult
from sync_job.engine.verify import KINDS
from sync_job.service.config import Config
from sync_job.state.inbox import webhook_health
from sync_job.state.store import Store
from sync_job.state.verifications import VerifyRecord, last_verify

__all__ = [
    "Metrics",
    "MetricsServer",
    "start_server_if_configured",
    "write_textfile",
    "write_textfile_if_configured",
]

log = structlog.get_logger(__name__)

ORDER_OUTCOMES = ("created", "sent", "paid", "recycled", "quarantined")
TEXTFILE_MODE = 0o644  # node_exporter runs as another user; metrics hold no secrets


class Metrics:
    """The program's metric families on a private registry, and how to update them."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.registry = CollectorRegistry()
        self.clock = clock
        self._cursors: dict[tuple[str, str], int] = {}
        self._dealpos_seen: dict[tuple[str, str], int] = {}
        self._define()

    def _define(self) -> None:
        r = self.registry
        self.cycles = Counter(
            "sync_job_cycles", "Shop cycles by how they ended.", ["shop", "status"], registry=r
        )
        self.orders = Counter(
            "sync_job_orders", "DealPOS outcomes of orders.", ["shop", "outcome"], registry=r
        )
        self.dealpos_calls = Counter(
            "sync_job_dealpos_calls",
            "DealPOS HTTP calls by endpoint and HTTP status (or error name).",
            ["endpoint", "status"],
            registry=r,
        )
        self.rate_limited = Counter(
            "sync_job_dealpos_rate_limited", "DealPOS 429 answers.", ["shop"], registry=r
        )
        self.crashes = Counter(
            "sync_job_cycle_crashes", "Daemon cycles ended by an unexpected error.", registry=r
        )
        self.webhooks = Counter(
            "sync_job_webhook_deliveries",
            "Webhook deliveries by outcome (received, duplicate, rejected, unknown_shop).",
            ["outcome"],
            registry=r,
        )
        self._define_gauges()

    def _define_gauges(self) -> None:
        r = self.registry
        self._define_webhook_gauges()
        self.outbox = Gauge(
            "sync_job_outbox_actions", "Outbox actions by state.", ["shop", "state"], registry=r
        )
        self.attention = Gauge(
            "sync_job_attention_open", "Open attention items.", ["shop"], registry=r
        )
        self.cursor_lag = Gauge(
            "sync_job_cursor_lag_seconds",
            "Seconds between now and a stream's cursor.",
            ["shop", "stream"],
            registry=r,
        )
        self.last_success = Gauge(
            "sync_job_last_success_timestamp_seconds",
            "Unix time the last successful cycle finished.",
            ["shop"],
            registry=r,
        )
        self.duration = Gauge(
            "sync_job_cycle_duration_seconds", "Duration of the last cycle.", ["shop"], registry=r
        )
        self.verify_findings = Gauge(
            "sync_job_verify_findings",
            "Findings of the shop's last verify, by kind (pending: still in the outbox).",
            ["shop", "kind"],
            registry=r,
        )
        self.last_verify = Gauge(
            "sync_job_verify_last_timestamp_seconds",
            "Unix time the shop's last verify finished (daily or by the command).",
            ["shop"],
            registry=r,
        )
        self.auth_failures = Gauge(
            "sync_job_auth_failures_consecutive",
            "Cycles in a row that failed on authentication.",
            ["shop"],
            registry=r,
        )

    def _define_webhook_gauges(self) -> None:
        r = self.registry
        self.webhook_last = Gauge(
            "sync_job_webhook_last_received_timestamp_seconds",
            "Unix time the last signed webhook delivery arrived.",
            registry=r,
        )
        self.webhook_pending = Gauge(
            "sync_job_webhook_pending", "Stored notifications not yet worked off.", registry=r
        )
        self.webhook_lag = Gauge(
            "sync_job_webhook_lag_seconds",
            "Median seconds from TikTok's notification timestamp to the push (newest 100).",
            registry=r,
        )

    def observe_delivery(self, outcome: str, at: float) -> None:
        """Count one webhook delivery (called on the receiver's threads; no database)."""
        self.webhooks.labels(outcome).inc()
        if outcome != "rejected":
            self.webhook_last.set(at)

    def observe_webhooks(self, store: Store) -> None:
        """Refresh the webhook backlog and lag from the inbox (call in the job thread)."""
        health = webhook_health(store.db)
        self.webhook_pending.set(health["pending"])
        if health["lag_seconds"] is not None:
            self.webhook_lag.set(health["lag_seconds"])
        if health["last_received_at"] is not None:  # also after a restart
            self.webhook_last.set(health["last_received_at"])

    def observe(
        self,
        results: Sequence[CycleResult],
        store: Store,
        shop_ids: Iterable[str],
        dealpos_calls: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        """Count finished cycles and refresh every store-derived gauge (call in the job thread)."""
        self.observe_results(results)
        if dealpos_calls is not None:
            self.observe_dealpos(dealpos_calls)
        for shop_id in shop_ids:
            self.observe_store(store, shop_id)
        self.observe_webhooks(store)

    def observe_results(self, results: Sequence[CycleResult]) -> None:
        """Count cycles, order outcomes and 429s from finished cycles."""
        for result in results:
            shop, counts = result.shop_id, result.counts
            self.cycles.labels(shop, result.status).inc()
            for outcome in ORDER_OUTCOMES:
                self.orders.labels(shop, outcome).inc(int(counts.get(outcome, 0)))
            self.rate_limited.labels(shop).inc(int(counts.get("rate_limited", 0)))
            if "duration_s" in counts:
                self.duration.labels(shop).set(float(counts["duration_s"]))

    def observe_dealpos(self, by_outcome: Mapping[tuple[str, str], int]) -> None:
        """Add the calls made since the last look (the client's tally only ever grows)."""
        for key, total in dict(by_outcome).items():
            new = total - self._dealpos_seen.get(key, 0)
            if new > 0:
                self.dealpos_calls.labels(*key).inc(new)
            self._dealpos_seen[key] = total

    def observe_store(self, store: Store, shop_id: str) -> None:
        """Refresh outbox depth, attention items, cursors and last success of one shop."""
        for state, n in store.outbox_counts(shop_id).items():
            self.outbox.labels(shop_id, state).set(n)
        self.attention.labels(shop_id).set(len(store.open_attention(shop_id)))
        for stream in STREAMS:
            self._note_cursor(shop_id, stream, store.get_cursor(shop_id, stream))
        finished = store.last_success(shop_id)
        if finished is not None:
            self.last_success.labels(shop_id).set(finished)
        self.observe_verify(last_verify(store, shop_id))

    def observe_verify(self, record: VerifyRecord | None) -> None:
        """Findings by kind (0 for the kinds it had none of) and the time of the last verify."""
        if record is None:
            return  # no series before the first verify: "no findings" would be a lie
        for kind in KINDS:
            self.verify_findings.labels(record.shop_id, kind).set(record.findings.get(kind, 0))
        finished = datetime.fromisoformat(record.finished_at).timestamp()
        self.last_verify.labels(record.shop_id).set(finished)

    def _note_cursor(self, shop_id: str, stream: str, position: int | None) -> None:
        if position is None:
            return  # no series before the first window is done: "no lag" would be a lie
        key = (shop_id, stream)
        known = key in self._cursors
        self._cursors[key] = position  # before the series exists: a scrape may come at once
        if not known:
            self.cursor_lag.labels(*key).set_function(partial(self._lag, key))

    def _lag(self, key: tuple[str, str]) -> float:
        return max(self.clock() - self._cursors[key], 0.0)

    def set_auth_failures(self, shop_id: str, count: int) -> None:
        """Record how many cycles in a row failed on authentication."""
        self.auth_failures.labels(shop_id).set(count)


class MetricsServer:
    """The HTTP endpoint of the daemon (any path answers with the metrics)."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self._server: WSGIServer
        self._server, self._thread = start_http_server(port, addr=host, registry=registry)

    @property
    def port(self) -> int:
        """The bound port (useful when asked for port 0)."""
        return int(self._server.server_address[1])

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2.0)


def write_textfile(path: Path, registry: CollectorRegistry) -> None:
    """Write the metrics atomically: a temp file in the same folder, fsync, then rename."""
    data = generate_latest(registry)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temp name does not end in .prom, so node_exporter never reads a half-written file.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fchmod(out.fileno(), TEXTFILE_MODE)
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_textfile_if_configured(
    config: Config,
    results: Sequence[CycleResult],
    store: Store,
    dealpos_calls: Mapping[tuple[str, str], int] | None = None,
) -> bool:
    """After `once` / `backfill`: write `[metrics] textfile` if set; True when written.

    A failure to write is logged, never raised: the sync itself went through.
    """
    path = config.metrics.textfile
    if path is None:
        return False
    metrics = Metrics()
    try:
        metrics.observe(results, store, (s.id for s in config.tiktok.shops), dealpos_calls)
        write_textfile(path, metrics.registry)
    except (OSError, sqlite3.Error) as exc:
        log.error("could not write the metrics textfile", path=str(path), error=str(exc))
        return False
    return True


def start_server_if_configured(config: Config, metrics: Metrics) -> MetricsServer | None:
    """Serve `metrics` on `[metrics] listen` when set; a bind failure is logged, not fatal."""
    address = config.metrics.listen_address
    if address is None:
        return None
    host, port = address
    try:
        server = MetricsServer(metrics.registry, host, port)
    except OSError as exc:
        # Syncing matters more than metrics: say so loudly and keep going.
        log.error(
            "metrics listener failed; running without it",
            listen=config.metrics.listen,
            error=str(exc),
        )
        return None
    log.info("serving metrics", listen=f"{host}:{server.port}")
    return server
