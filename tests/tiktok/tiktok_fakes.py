"""Fakes and constants for the TikTok client tests: a clock, a token store, credentials."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sync_job.domain.model import Tokens

BASE_URL = "https://open-api.test"
AUTH_URL = "https://auth.test"
APP_KEY = "test-app-key"
APP_SECRET = "app-secret-5f1c9e"
NOW = 1_700_000_000.0

OLD_TOKENS = Tokens(
    access_token="access-old-7d1a",
    access_expires_at=int(NOW) + 7 * 86400,
    refresh_token="refresh-old-93b2",
    refresh_expires_at=int(NOW) + 60 * 86400,
)


class FakeClock:
    """A clock that only moves when told to, or when something sleeps on it."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        """Return the current fake time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record the sleep and move time forward instead of waiting."""
        self.sleeps.append(seconds)
        self.now += seconds


class MemoryTokenStore:
    """A TokenStore that keeps tokens in memory and records every save."""

    def __init__(self, tokens: Tokens | None = None) -> None:
        self.tokens = tokens
        self.saved: list[Tokens] = []
        self.locks = 0

    def load_tokens(self, app_key: str) -> Tokens | None:
        """Return the stored tokens."""
        assert app_key == APP_KEY
        return self.tokens

    def save_tokens(self, app_key: str, tokens: Tokens) -> None:
        """Store and record both tokens at once."""
        assert app_key == APP_KEY
        self.saved.append(tokens)
        self.tokens = tokens

    @contextlib.contextmanager
    def tokens_locked(self) -> Iterator[None]:
        """Count the lock's uses (one process: nothing else to wait for)."""
        self.locks += 1
        yield
