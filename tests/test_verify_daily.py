"""The daemon's daily verify of the previous day: once per shop and day, stored, exported."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sync_job.service.app import App
from sync_job.service.config import load_config
from sync_job.service.daemon import Daemon
from sync_job.service.metrics import Metrics
from sync_job.service.verifying import run_daily_verify
from sync_job.state.store import Store
from sync_job.state.verifications import last_verify
from tests.e2e.conftest import SECRETS, SHOP, Sandbox, running_sandbox
from tests.factories import line, order

LIST = "POST /api/v3/Invoice/MultipleOutlet"
JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    """Both simulators; one order paid yesterday (Jakarta), updated a moment ago."""
    with running_sandbox(tmp_path) as sandbox:
        midnight = datetime.now(JAKARTA).replace(hour=0, minute=0, second=0, microsecond=0)
        paid = int(midnight.timestamp()) - 3600
        now = int(time.time())
        sandbox.tiktok.put_order(
            SHOP,
            order(
                "AWAITING_SHIPMENT",
                lines=[line("KAOS-HITAM-M")],
                create_time=paid - 60,
                paid_time=paid,
                update_time=now - 30,
            ),
        )
        yield sandbox


def daemon_for(box: Sandbox, daily: bool, metrics: Metrics) -> Daemon:
    """A daemon over the sandbox's config (no scheduler started: cycles are called directly)."""
    box.write_config(**{"verify.daily": daily})
    config = load_config(box.config_path, env=SECRETS)
    return Daemon(config, metrics=metrics)


def test_the_daemon_verifies_yesterday_once_and_exports_it(box: Sandbox) -> None:
    """First cycle: mirror + a verify of yesterday (1 order, clean); second cycle: no verify."""
    metrics = Metrics()
    daemon = daemon_for(box, True, metrics)
    daemon.cycle()
    assert daemon.app is not None
    record = last_verify(daemon.app.store, SHOP, "daily")
    yesterday = (datetime.now(JAKARTA) - timedelta(days=1)).date().isoformat()
    assert record is not None and (record.first_day, record.last_day) == (yesterday, yesterday)
    assert (record.orders, record.invoices, record.findings, record.status) == (1, 1, {}, "ok")
    labels = {"shop": SHOP, "kind": "missing"}
    assert metrics.registry.get_sample_value("sync_job_verify_findings", labels) == 0
    last = metrics.registry.get_sample_value(
        "sync_job_verify_last_timestamp_seconds", {"shop": SHOP}
    )
    assert last is not None and abs(last - time.time()) < 120
    daemon.cycle()
    assert box.dealpos.calls.count(LIST) == 1
    daemon._discard_app()


def test_a_day_later_the_new_yesterday_is_verified_and_drift_is_counted(box: Sandbox) -> None:
    """Next day's verify catches the invoice erased meanwhile; the gauge shows it."""
    now = int(time.time())
    today = order(
        "AWAITING_SHIPMENT",
        lines=[line("KAOS-HITAM-M")],
        create_time=now - 120,
        paid_time=now - 60,
        update_time=now - 30,
    )
    box.tiktok.put_order(SHOP, today)
    metrics = Metrics()
    daemon = daemon_for(box, True, metrics)
    daemon.cycle()
    assert len(box.dealpos.invoices()) == 2
    box.dealpos.tamper({"action": "delete", "number": f"TT-{today['id']}"})
    tomorrow = App.open(daemon.config, clock=lambda: time.time() + 86400)
    try:
        (result,) = run_daily_verify(tomorrow)
        assert result.first == datetime.now(JAKARTA).date()
        assert [(f.kind, f.order_id) for f in result.findings] == [("missing", today["id"])]
        assert run_daily_verify(tomorrow) == []
        metrics.observe_store(tomorrow.store, SHOP)
    finally:
        tomorrow.close()
        daemon._discard_app()
    labels = {"shop": SHOP, "kind": "missing"}
    assert metrics.registry.get_sample_value("sync_job_verify_findings", labels) == 1


def test_off_by_default_no_verify_and_no_list_call(box: Sandbox) -> None:
    """Without `[verify] daily = true` the daemon never lists invoices."""
    daemon = daemon_for(box, False, Metrics())
    daemon.cycle()
    assert box.dealpos.calls.count(LIST) == 0
    assert daemon.app is not None and last_verify(daemon.app.store, SHOP) is None
    daemon._discard_app()
    store = Store.open(box.state_path)
    assert store.db.execute("SELECT COUNT(*) FROM verify_runs").fetchone()[0] == 0
    store.close()
