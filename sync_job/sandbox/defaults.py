"""Credentials and names the standalone simulators and the embedded sandbox share."""

from __future__ import annotations

TIKTOK_APP_KEY = "sandbox-app-key"
TIKTOK_APP_SECRET = "sandbox-app-secret"
TIKTOK_SHOP_ID = "7495000000000000001"
TIKTOK_SHOP_CIPHER = "GCP_sandbox+shop/cipher"  # "+" and "/" on purpose: clients must encode it
TIKTOK_ACCESS_TOKEN = "sandbox-access-token"
TIKTOK_REFRESH_TOKEN = "sandbox-refresh-token"

DEALPOS_CLIENT_ID = "sandbox-client"
DEALPOS_CLIENT_SECRET = "sandbox-secret"
DEALPOS_OUTLET = "Online Store"
DEALPOS_PAYMENT_METHOD = "TikTok Shop"
