"""How figures are printed: `name: value (target …) verdict`, one line each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    """One printed figure; `ok` is None for a supporting line that has no target of its own."""

    name: str
    value: str
    note: str
    ok: bool | None = None

    def text(self) -> str:
        """The line as printed."""
        verdict = "" if self.ok is None else (" pass" if self.ok else " MISS")
        indent = "" if self.ok is not None else "  "
        return f"{indent}{self.name}: {self.value} ({self.note}){verdict}"


def ratio(value: float) -> str:
    """A ratio with two decimals."""
    return f"{value:.2f}"


def median(values: list[float]) -> float:
    """The median of a non-empty list."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
