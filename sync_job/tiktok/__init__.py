"""TikTok Shop Open API: request signing and the client that pages orders and returns."""

from sync_job.domain.model import Tokens, Window
from sync_job.tiktok.client import Page, TikTokClient, TokenStore
from sync_job.tiktok.envelope import classify
from sync_job.tiktok.signing import sign, verify_webhook, webhook_signature

__all__ = [
    "Page",
    "TikTokClient",
    "TokenStore",
    "Tokens",
    "Window",
    "classify",
    "sign",
    "verify_webhook",
    "webhook_signature",
]
