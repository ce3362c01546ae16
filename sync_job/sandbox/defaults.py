"""Credentials and names the standalone simulators and the embedded sandbox share."""

from __future__ import annotations

from typing import Any

from sync_job.sandbox.catalogue import dealpos_variants
from sync_job.sandbox.dealpos_sim import DealposSimulator
from sync_job.sandbox.tiktok_sim import TikTokSimulator

TIKTOK_APP_KEY = "sandbox-app-key"
TIKTOK_APP_SECRET = "sandbox-app-secret"
TIKTOK_SHOP_ID = "7495000000000000001"
TIKTOK_SHOP_CIPHER = "GCP_sandbox+shop/cipher"  # "+" and "/" on purpose: clients must encode it
TIKTOK_ACCESS_TOKEN = "sandbox-access-token"
TIKTOK_REFRESH_TOKEN = "sandbox-refresh-token"
TIKTOK_SERVICE_ID = "7310000000000000001"  # any id: the simulator's authorization page takes it

DEALPOS_CLIENT_ID = "sandbox-client"
DEALPOS_CLIENT_SECRET = "sandbox-secret"
DEALPOS_OUTLET = "Online Store"
DEALPOS_PAYMENT_METHOD = "TikTok Shop"


def tiktok_simulator(**options: Any) -> TikTokSimulator:
    """A TikTok Shop simulator with the sandbox's app, shop and first tokens."""
    return TikTokSimulator(
        TIKTOK_APP_KEY,
        TIKTOK_APP_SECRET,
        [(TIKTOK_SHOP_ID, TIKTOK_SHOP_CIPHER)],
        access_token=TIKTOK_ACCESS_TOKEN,
        refresh_token=TIKTOK_REFRESH_TOKEN,
        **options,
    )


def dealpos_simulator(**options: Any) -> DealposSimulator:
    """A DealPOS simulator with the sandbox's client, outlet, payment method and catalogue."""
    return DealposSimulator(
        DEALPOS_CLIENT_ID,
        DEALPOS_CLIENT_SECRET,
        variants=dealpos_variants(),
        outlets=[DEALPOS_OUTLET],
        payment_methods=[DEALPOS_PAYMENT_METHOD],
        **options,
    )
