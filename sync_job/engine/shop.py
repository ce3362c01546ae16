"""One shop as the engine sees it: its ids, its invoice settings and its mode."""

from __future__ import annotations

from dataclasses import dataclass

from sync_job.domain.flow import Mode
from sync_job.domain.invoice import InvoiceSettings


@dataclass(frozen=True)
class ShopContext:
    """Everything about one shop that recording, planning and pushing need."""

    shop_id: str
    cipher: str
    settings: InvoiceSettings
    mode: Mode
    settle_always: bool = False
