"""TikTok Shop request signing and webhook verification (HMAC-SHA256, lower-case hex)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

# Query parameters that never take part in the signature.
_UNSIGNED = frozenset({"sign", "access_token"})


def signed_params(params: Mapping[str, str]) -> dict[str, str]:
    """Return the params that are signed and sent: no `sign`/`access_token`, no empty values."""
    return {k: v for k, v in params.items() if k not in _UNSIGNED and v != ""}


def sign(path: str, params: Mapping[str, str], body: bytes | None, app_secret: str) -> str:
    """Compute the `sign` query parameter for `path`, the raw params and the exact body bytes."""
    kept = signed_params(params)
    # Python orders str by code point, which equals UTF-8 byte order: the spec's "byte order".
    joined = "".join(key + kept[key] for key in sorted(kept))
    message = (app_secret + path + joined).encode() + (body or b"") + app_secret.encode()
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """Compute the webhook `Authorization` header value for a raw notification body."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def verify_webhook(app_key: str, app_secret: str, body: bytes, authorization: str) -> bool:
    """Tell whether a webhook's `Authorization` header matches its raw body (constant time)."""
    expected = webhook_signature(app_key, app_secret, body).encode()
    # As bytes: compare_digest refuses a str with non-ASCII characters (a forged header).
    given = authorization.strip().lower().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(expected, given)
