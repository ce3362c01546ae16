"""Value types shared across layers: a token pair and an update-time window."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Tokens:
    """An access/refresh token pair with absolute Unix expiry times (0 = unknown)."""

    access_token: str = field(repr=False)
    access_expires_at: int
    refresh_token: str = field(repr=False)
    refresh_expires_at: int


@dataclass(frozen=True)
class Window:
    """A half-open update-time window [start, end) in Unix seconds."""

    start: int
    end: int

    def __post_init__(self) -> None:
        """Reject a window that ends before it starts."""
        if self.end < self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start})")
