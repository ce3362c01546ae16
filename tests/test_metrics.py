"""Prometheus metrics: values from results and a real store, the HTTP endpoint, the textfile."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import stat
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from sync_job.domain.flow import Action
from sync_job.engine.cycle import CycleResult
from sync_job.service.cli import main
from sync_job.service.config import MetricsConfig
from sync_job.service.daemon import Daemon
from sync_job.service.metrics import (
    Metrics,
    MetricsServer,
    write_textfile,
    write_textfile_if_configured,
)
from sync_job.state.store import Store
from tests.factories import never_sleep_in_commands
from tests.service_fakes import StubApp, make_config, result, stub_app

NOW = 1_764_000_000.0


class Clock:
    """A wall clock moved by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A real state database with a little of everything for shop1."""
    s = Store.open(tmp_path / "state" / "sync.db", clock=lambda: NOW)
    s.replace_outbox("shop1", "o1", [Action("create"), Action("send")], "pending")
    s.replace_outbox("shop1", "o2", [Action("pay")], "quarantined", "Variant code not found")
    s.raise_attention("shop1", "o3", "unknown_sku", "o3:SKU-X", "SKU-X is not in DealPOS")
    s.advance_cursor("shop1", "orders", int(NOW) - 300)
    s.start_run("r1", "shop1", "realtime")
    s.finish_run("r1", "ok", {}, None)
    return s


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    """One sample's value from the private registry."""
    return metrics.registry.get_sample_value(name, labels)


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Exposition text → {(sample name, labels): value}."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_results_count_cycles_orders_and_429s() -> None:
    """Finished cycles add to cycles by shop/status, orders by outcome, and 429s by shop."""
    metrics = Metrics()
    metrics.observe_results(
        [
            result("shop1", created=3, sent=2, paid=1, recycled=0, quarantined=1, rate_limited=2),
            result("shop2", "failed", error="TikTok unreachable"),
        ]
    )
    metrics.observe_results([result("shop1", created=1, duration_s=4.5)])
    assert sample(metrics, "sync_job_cycles_total", shop="shop1", status="ok") == 2
    assert sample(metrics, "sync_job_cycles_total", shop="shop2", status="failed") == 1
    assert sample(metrics, "sync_job_orders_total", shop="shop1", outcome="created") == 4
    assert sample(metrics, "sync_job_orders_total", shop="shop1", outcome="quarantined") == 1
    assert sample(metrics, "sync_job_dealpos_rate_limited_total", shop="shop1") == 2
    assert sample(metrics, "sync_job_cycle_duration_seconds", shop="shop1") == 4.5


def test_dealpos_calls_are_counted_once_from_the_growing_tally() -> None:
    """The client's tally only grows: each look adds just the calls made since the last one."""
    metrics, tally = Metrics(), Counter[tuple[str, str]]()
    tally[("create", "200")] += 2
    tally[("create", "429")] += 1
    metrics.observe_dealpos(tally)
    tally[("create", "200")] += 1
    metrics.observe_dealpos(tally)
    assert sample(metrics, "sync_job_dealpos_calls_total", endpoint="create", status="200") == 3
    assert sample(metrics, "sync_job_dealpos_calls_total", endpoint="create", status="429") == 1


def test_store_gauges_outbox_attention_lag_and_last_success(store: Store) -> None:
    """Outbox depth by state, open attention, cursor lag and last success come from the store."""
    clock = Clock()
    metrics = Metrics(clock=clock)
    metrics.observe([], store, ["shop1"])
    assert sample(metrics, "sync_job_outbox_actions", shop="shop1", state="pending") == 2
    assert sample(metrics, "sync_job_outbox_actions", shop="shop1", state="quarantined") == 1
    assert sample(metrics, "sync_job_outbox_actions", shop="shop1", state="in_flight") == 0
    assert sample(metrics, "sync_job_attention_open", shop="shop1") == 1
    assert sample(metrics, "sync_job_cursor_lag_seconds", shop="shop1", stream="orders") == 300
    assert sample(metrics, "sync_job_cursor_lag_seconds", shop="shop1", stream="returns") is None
    assert sample(metrics, "sync_job_last_success_timestamp_seconds", shop="shop1") == NOW
    clock.now += 60  # lag is computed at scrape time: it grows while cycles do not advance
    assert sample(metrics, "sync_job_cursor_lag_seconds", shop="shop1", stream="orders") == 360


def test_failed_runs_do_not_move_the_last_success(store: Store) -> None:
    """Only runs that ended ok count as successes."""
    store.start_run("r2", "shop1", "realtime")
    store.finish_run("r2", "failed", {}, "TikTok unreachable")
    metrics = Metrics()
    metrics.observe([], store, ["shop1", "shop2"])
    assert sample(metrics, "sync_job_last_success_timestamp_seconds", shop="shop2") is None
    assert sample(metrics, "sync_job_last_success_timestamp_seconds", shop="shop1") == NOW


def test_http_endpoint_serves_the_private_registry_on_loopback(store: Store) -> None:
    """The endpoint answers a scrape with our metrics only, and frees its port when stopped."""
    metrics = Metrics(clock=lambda: NOW)
    metrics.observe([result("shop1", created=1)], store, ["shop1"])
    server = MetricsServer(metrics.registry, "127.0.0.1", 0)
    try:
        answer = requests.get(f"http://127.0.0.1:{server.port}/metrics", timeout=5)
    finally:
        server.stop()
    assert answer.status_code == 200
    values = parse(answer.text)
    assert (
        values[("sync_job_orders_total", frozenset({("shop", "shop1"), ("outcome", "created")}))]
        == 1
    )
    assert not any(name.startswith("python_") or name.startswith("process_") for name, _ in values)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{server.port}/metrics", timeout=1)


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_daemon_serves_metrics_while_running_and_stops_serving(tmp_path: Path) -> None:
    """With [metrics] listen set the daemon serves metrics, updated after each cycle."""
    port = free_port()
    config = make_config(tmp_path, metrics={"listen": f"127.0.0.1:{port}"})
    scraped: list[str] = []

    def behaviour(app: StubApp) -> list[CycleResult]:
        scraped.append(requests.get(f"http://127.0.0.1:{port}/", timeout=5).text)
        os.kill(os.getpid(), signal.SIGTERM)
        return [result(created=2)]

    store = Store.open(tmp_path / "s.db")
    daemon = Daemon(config, app_factory=lambda c: stub_app(store, behaviour))
    assert daemon.run() == 0
    assert "# TYPE sync_job_cycles_total counter" in scraped[0]
    assert "sync_job_cycles_total{" not in scraped[0]  # scraped before the first cycle ended
    assert (
        daemon.metrics.registry.get_sample_value(
            "sync_job_orders_total", {"shop": "shop1", "outcome": "created"}
        )
        == 2
    )
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=1)


def test_textfile_is_written_atomically_and_readable_by_node_exporter(
    tmp_path: Path, store: Store
) -> None:
    """The textfile parses, is 0644 (node_exporter is another user) and leaves no temp files."""
    path = tmp_path / "metrics" / "sync_job.prom"
    config = dataclasses.replace(make_config(tmp_path), metrics=MetricsConfig(textfile=path))
    calls = Counter({("create", "201"): 3})
    assert write_textfile_if_configured(config, [result("shop1", created=3)], store, calls)
    values = parse(path.read_text())
    assert values[("sync_job_cycles_total", frozenset({("shop", "shop1"), ("status", "ok")}))] == 1
    key = ("sync_job_dealpos_calls_total", frozenset({("endpoint", "create"), ("status", "201")}))
    assert values[key] == 3
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["sync_job.prom"]


def test_textfile_replaces_the_previous_one_whole(tmp_path: Path) -> None:
    """A second write replaces the file (rename), never appends to it."""
    path = tmp_path / "m.prom"
    path.write_text("stale 1\n")
    write_textfile(path, Metrics().registry)
    assert "stale" not in path.read_text()


def test_no_textfile_configured_writes_nothing(tmp_path: Path, store: Store) -> None:
    """Without [metrics] textfile nothing is written."""
    assert write_textfile_if_configured(make_config(tmp_path), [result()], store) is False
    assert not list(tmp_path.glob("**/*.prom"))


def test_unwritable_textfile_is_logged_not_raised(tmp_path: Path, store: Store) -> None:
    """A textfile that cannot be written is an error in the log, never a crash of the run."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    config = dataclasses.replace(
        make_config(tmp_path), metrics=MetricsConfig(textfile=blocker / "m.prom")
    )
    with capture_logs() as logs:
        assert write_textfile_if_configured(config, [result()], store) is False
    assert logs[0]["log_level"] == "error"


def test_once_writes_the_textfile_even_when_a_shop_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`once` with TikTok unreachable exits 1 and still leaves the textfile for node_exporter."""
    never_sleep_in_commands(monkeypatch)
    config = tmp_path / "config.toml"
    config.write_text(
        '[state]\npath = "state/sync.db"\n[tiktok]\nbase_url = "http://127.0.0.1:9"\n'
        'auth_url = "http://127.0.0.1:9"\napp_key = "k"\napp_secret = "app-secret-QQ"\n'
        'access_token = "access-token-QQ"\nrefresh_token = "refresh-token-QQ"\n'
        '[[tiktok.shops]]\nid = "shop1"\ncipher = "c1"\noutlet = "Online Store"\n'
        '[dealpos]\nbase_url = "http://127.0.0.1:9"\nclient_id = "c"\n'
        'client_secret = "client-secret-QQ"\n[metrics]\ntextfile = "sync_job.prom"\n'
    )
    started = time.monotonic()
    outcome = CliRunner().invoke(main, ["--config", str(config), "once"], env={})
    assert outcome.exit_code == 1
    assert time.monotonic() - started < 30
    values = parse((tmp_path / "sync_job.prom").read_text())
    assert (
        values[("sync_job_cycles_total", frozenset({("shop", "shop1"), ("status", "failed")}))] == 1
    )
