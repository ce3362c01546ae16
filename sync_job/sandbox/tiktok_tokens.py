"""Access and refresh tokens of the TikTok Shop simulator, with absolute expiry times."""

from __future__ import annotations

import random
from typing import Any


class TokenError(Exception):
    """A token was refused; `code` and `message` are what TikTok would answer."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TokenBook:
    """Issues, rotates and checks tokens; every refresh invalidates the refresh token used."""

    def __init__(
        self,
        rng: random.Random,
        *,
        access_lifetime: float,
        refresh_lifetime: float,
        open_id: str,
        seller_name: str,
    ) -> None:
        self._rng = rng
        self._access_lifetime = access_lifetime
        self._refresh_lifetime = refresh_lifetime
        self._open_id = open_id
        self._seller_name = seller_name
        self.access: dict[str, float] = {}  # token -> expiry (unix seconds)
        self.refresh: dict[str, float] = {}
        self.current: tuple[str, str] = ("", "")  # latest (access, refresh) issued

    def add(self, access: str, refresh: str, now: float) -> dict[str, Any]:
        """Register a token pair valid from `now`; return the token response `data`."""
        access_exp = int(now + self._access_lifetime)
        refresh_exp = int(now + self._refresh_lifetime)
        self.access[access] = access_exp
        self.refresh[refresh] = refresh_exp
        self.current = (access, refresh)
        return {
            "access_token": access,
            "access_token_expire_in": access_exp,
            "refresh_token": refresh,
            "refresh_token_expire_in": refresh_exp,
            "open_id": self._open_id,
            "seller_name": self._seller_name,
            "seller_base_region": "ID",
            "user_type": 0,
            "granted_scopes": ["seller.order.info", "seller.return_refund.basic"],
        }

    def issue(self, now: float) -> dict[str, Any]:
        """Issue a brand-new token pair."""
        return self.add(self._new("ROW_"), self._new("RRT_"), now)

    def rotate(self, refresh_token: str, now: float) -> dict[str, Any]:
        """Trade a valid refresh token for a new pair; the old refresh token stops working."""
        expiry = self.refresh.get(refresh_token)
        if expiry is None or now >= expiry:
            raise TokenError(36009004, "invalid refresh_token: unknown, used or expired")
        del self.refresh[refresh_token]
        return self.issue(now)

    def check(self, access_token: str | None, now: float) -> None:
        """Raise TokenError unless `access_token` is known and unexpired."""
        if not access_token:
            raise TokenError(36009004, "invalid access token: x-tts-access-token header missing")
        expiry = self.access.get(access_token)
        if expiry is None:
            raise TokenError(36009004, "invalid access token")
        if now >= expiry:
            raise TokenError(105002, "Expired credentials: the access token has expired")

    def revoke_all(self) -> None:
        """Forget every token issued so far (the seller revoked the app, or re-authorized it)."""
        self.access.clear()
        self.refresh.clear()

    def expire_access(self, now: float) -> None:
        """Make every access token issued so far expire now."""
        for token in self.access:
            self.access[token] = min(self.access[token], now)

    def _new(self, prefix: str) -> str:
        return prefix + self._rng.randbytes(24).hex()
