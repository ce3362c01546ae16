"""The engine's own work per order, without HTTP: a supporting line of the overhead figure.

One real cycle (record every page, plan, push every action, with the real state file, outbox,
ledger and logging) runs in process against in-memory stand-ins for both APIs that answer at
once, so what it spends is the engine's bookkeeping alone.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench import harness
from sync_job.dealpos.wire import CreatedInvoice, InvoiceView
from sync_job.domain.invoice import InvoiceDraft
from sync_job.domain.model import Window
from sync_job.engine.cycle import Cycle
from sync_job.service.app import App, shop_context
from sync_job.tiktok.client import Page


class InstantTikTok:
    """Pages of prepared orders; no returns."""

    def __init__(self, orders: list[dict[str, Any]]) -> None:
        self.orders = orders

    def iter_orders(self, shop_cipher: str, window: Window) -> Iterator[Page]:
        """The prepared orders, 100 to a page."""
        for start in range(0, len(self.orders), 100):
            yield Page(self.orders[start : start + 100], start // 100 + 1, None)

    def iter_returns(self, shop_cipher: str, window: Window) -> Iterator[Page]:
        """One empty page."""
        yield Page([], 1, None)

    def fetch_orders(self, shop_cipher: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Nothing (no return names an unknown order)."""
        return []


class InstantDealpos:
    """Accepts every call at once."""

    def create_invoice(self, draft: InvoiceDraft) -> CreatedInvoice:
        """An answer with an ID and the Number sent."""
        return CreatedInvoice("id-" + draft.number, draft.number)

    def send_invoice(self, outlet: str, number: str, date: str) -> None:
        """Done."""

    def pay_in_full(self, outlet: str, number: str, date: str, method: str, note: str) -> None:
        """Done."""

    def delete_invoice(self, outlet: str, number: str, *, invoice_id: str | None = None) -> None:
        """Done."""

    def find_invoice(self, outlet: str, number: str) -> InvoiceView | None:
        """Never found."""
        return None

    def find_invoice_by_id(self, invoice_id: str) -> InvoiceView | None:
        """Never found."""
        return None

    def list_invoices(
        self,
        outlet: str,
        tag: str,
        start_date: str,
        end_date: str,
        page_number: int,
        page_size: int = 100,
    ) -> list[InvoiceView]:
        """Nothing listed."""
        return []


def engine_cpu_per_order(orders: int) -> float:
    """CPU milliseconds per new paid order of one cycle with instant stand-ins for both APIs."""
    harness.quiet_logs()
    tiktok, dealpos = harness.start_tiktok(), harness.start_dealpos()
    now = int(time.time())
    with harness.running(tiktok, dealpos), tempfile.TemporaryDirectory() as tmp:
        harness.add_paid_orders(tiktok, orders, now - 3600, now - 600)
        config = harness.make_config(harness.settings(tiktok, dealpos, Path(tmp) / "s.db"))
        app = App.open(config)
        try:
            deps = app.deps()
            deps.tiktok, deps.dealpos = InstantTikTok(tiktok.orders(harness.SHOP)), InstantDealpos()
            cycle = Cycle(deps, shop_context(config, config.tiktok.shops[0], "realtime"))
            started = time.process_time()
            result = cycle.run()
            spent = time.process_time() - started
        finally:
            app.close()
    if result.push.created != orders:
        raise RuntimeError(f"engine-only run ended {result.status}: {result.counts}")
    return spent / orders * 1000
