"""Fixtures for the TikTok client tests: fake clock, in-memory token store, strict mock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sync_job.tiktok.client import TikTokClient
from tests.tiktok.tiktok_fakes import (
    APP_KEY,
    APP_SECRET,
    AUTH_URL,
    BASE_URL,
    OLD_TOKENS,
    FakeClock,
    MemoryTokenStore,
)


@pytest.fixture
def clock() -> FakeClock:
    """A fresh fake clock at NOW."""
    return FakeClock()


@pytest.fixture
def store() -> MemoryTokenStore:
    """An empty in-memory token store."""
    return MemoryTokenStore()


@pytest.fixture
def make_client(clock: FakeClock, store: MemoryTokenStore) -> Callable[..., TikTokClient]:
    """Build a client wired to the fake clock and store; keyword overrides win."""

    def build(**overrides: Any) -> TikTokClient:
        settings: dict[str, Any] = {
            "base_url": BASE_URL,
            "auth_url": AUTH_URL,
            "app_key": APP_KEY,
            "app_secret": APP_SECRET,
            "initial_tokens": OLD_TOKENS,
            "token_store": store,
            "clock": clock.time,
            "sleep": clock.sleep,
        }
        settings.update(overrides)
        return TikTokClient(**settings)

    return build
