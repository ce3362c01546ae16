"""Subscribe the webhook receiver's public URL to the three order events TikTok can push.

Used by `sync-job connect --subscribe URL`. TikTok only calls HTTPS addresses; a plain http://
address is accepted for a loopback host only (the sandbox).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from sync_job.domain.errors import ConfigError
from sync_job.domain.notification import EVENT_NAMES

EVENT_TYPES: tuple[str, ...] = tuple(EVENT_NAMES.values())
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class WebhookApi(Protocol):
    """The two TikTok calls subscribing needs (sync_job.tiktok.client.TikTokClient)."""

    def subscribe_webhook(self, address: str, event_type: str) -> None: ...
    def list_webhooks(self) -> list[dict[str, Any]]: ...


def check_address(url: str) -> str:
    """Accept an https:// URL with a host (http:// only for loopback); raise ConfigError."""
    parts = urlsplit(url.strip())
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    if not parts.hostname or not secure or parts.query or parts.fragment:
        raise ConfigError(
            "--subscribe",
            "must be the public https:// URL of the webhook path, e.g. "
            "https://shop-sync.example.com/tiktok/webhook",
        )
    return url.strip()


def subscribe_webhooks(
    client: WebhookApi, address: str, events: Sequence[str] = EVENT_TYPES
) -> list[tuple[str, str]]:
    """Point each event type at `address`; return (event type, address) as TikTok now lists them."""
    for event in events:
        client.subscribe_webhook(address, event)
    listed = [
        (str(w.get("event_type", "")), str(w.get("address", ""))) for w in client.list_webhooks()
    ]
    return [item for item in listed if item[0] in events]
