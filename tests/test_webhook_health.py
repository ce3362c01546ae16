"""Webhook health in `status` (text and JSON) and in the metrics."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import generate_latest

from sync_job.domain.notification import Notification
from sync_job.service.config import ShopConfig, WebhookConfig
from sync_job.service.metrics import Metrics
from sync_job.service.status import collect_status, render_status
from sync_job.state import inbox
from sync_job.state.inbox import InboxWriter
from sync_job.state.store import Store

SHOP = ShopConfig("7495000000000000099", "cipher", "Online Store")
NOW = 1_767_225_600.0


def filled(tmp_path: Path) -> Path:
    """A state file with 2 notifications (one pushed, 30 s after TikTok sent it), 1 repeat,
    1 refused and 1 for another shop."""
    path = tmp_path / "sync.db"
    writer = InboxWriter.open(path, clock=lambda: NOW)
    writer.store(Notification("n-1", 1, SHOP.id, int(NOW) - 30, "o-1"))
    writer.store(Notification("n-2", 1, SHOP.id, int(NOW) - 10, "o-2"))
    writer.store(Notification("n-1", 1, SHOP.id, int(NOW) - 30, "o-1"))
    writer.count("rejected")
    writer.count("unknown_shop")
    writer.close()
    store = Store.open(path)
    inbox.finish_notifications(store.db, ["n-1"], "pushed", NOW)
    store.close()
    return path


def test_status_json_and_text_show_webhook_health(tmp_path: Path) -> None:
    """Counts, last delivery, backlog and lag appear in both forms of `status`."""
    store = Store.open(filled(tmp_path))
    hook = WebhookConfig("0.0.0.0:8080", "/tiktok/webhook")
    data = collect_status(store, [SHOP], hook)["webhook"]
    store.close()
    assert data["listen"] == "0.0.0.0:8080/tiktok/webhook"
    assert (data["received"], data["duplicate"], data["rejected"], data["unknown_shop"]) == (
        2, 1, 1, 1,
    )  # fmt: skip
    assert data["pending"] == 1 and data["lag_seconds"] == 30.0
    assert data["last_received_at"] == "2026-01-01T00:00:00+00:00"
    text = render_status({"shops": [], "webhook": data}, now=lambda: NOW + 5)
    assert "webhook: 0.0.0.0:8080/tiktok/webhook, last received 5s ago" in text
    assert "2 received, 1 duplicate, 1 rejected, 1 unknown shop; 1 waiting" in text
    assert "lag to DealPOS (median) 30.0s" in text


def test_status_says_when_webhooks_are_off(tmp_path: Path) -> None:
    """No listener and nothing ever received: one line says polling works alone."""
    store = Store.open(tmp_path / "sync.db")
    data = collect_status(store, [SHOP])
    store.close()
    assert "webhook: off" in render_status(data)


def test_metrics_count_deliveries_and_show_backlog_and_lag(tmp_path: Path) -> None:
    """Deliveries are counted as they come; backlog and lag are read after a round."""
    metrics = Metrics()
    path = tmp_path / "sync.db"
    writer = InboxWriter.open(path, clock=lambda: NOW)
    writer.observers.append(metrics.observe_delivery)
    writer.store(Notification("n-1", 1, SHOP.id, int(NOW) - 4, "o-1"))
    writer.store(Notification("n-1", 1, SHOP.id, int(NOW) - 4, "o-1"))
    writer.count("rejected")
    writer.close()
    store = Store.open(path)
    inbox.finish_notifications(store.db, ["n-1"], "pushed", NOW)
    metrics.observe([], store, [SHOP.id])
    store.close()
    text = generate_latest(metrics.registry).decode()
    assert 'sync_job_webhook_deliveries_total{outcome="received"} 1.0' in text
    assert 'sync_job_webhook_deliveries_total{outcome="duplicate"} 1.0' in text
    assert 'sync_job_webhook_deliveries_total{outcome="rejected"} 1.0' in text
    assert "sync_job_webhook_pending 0.0" in text
    assert "sync_job_webhook_lag_seconds 4.0" in text
    assert "sync_job_webhook_last_received_timestamp_seconds 1.7672256e+09" in text
