"""What a cycle reports while it works: the Progress protocol, and NullProgress (reports nothing).

The engine only calls these three methods; the bar or log lines a person sees live in
service/progress.py (and service/console.py), so the engine imports nothing from service/.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["NullProgress", "Progress"]


class Progress(Protocol):
    """What a cycle reports while it works."""

    def phase(self, name: str, total: int | None, unit: str) -> None:
        """Start a phase (fetching a stream's windows, or pushing the outbox)."""

    def advance(self, n: int = 1, **figures: int) -> None:
        """n more units done; figures are shown beside the bar (e.g. orders=1200)."""

    def close(self) -> None:
        """End the current phase."""


class NullProgress:
    """Reports nothing (once, daemon)."""

    def phase(self, name: str, total: int | None, unit: str) -> None:
        """Ignore."""

    def advance(self, n: int = 1, **figures: int) -> None:
        """Ignore."""

    def close(self) -> None:
        """Ignore."""
