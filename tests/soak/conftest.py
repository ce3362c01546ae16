"""The chaos soak's marker: `-m soak` selects it, `-m "not soak"` skips it (it runs by default)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Register the `soak` marker."""
    config.addinivalue_line(
        "markers", "soak: the bounded chaos soak (real daemon, SIGKILLs, faults; ~1 minute)"
    )
