"""The ledger: what DealPOS has for each order, as far as this job knows.

Written when DealPOS confirmed a call (in the unit of work that removes the call from the outbox)
or when a lookup or verify found the invoice; it keeps the Number and ID DealPOS gave, which every
later call uses. Dropped when verify finds DealPOS has no invoice at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync_job.domain import jsonutil
from sync_job.domain.flow import InvoiceState
from sync_job.state.db import StoreBase


@dataclass(frozen=True)
class LedgerRow:
    """What DealPOS has for one order, as far as this job knows."""

    number: str
    invoice_id: str | None
    state: InvoiceState
    lines: dict[str, int] | None


class LedgerTable(StoreBase):
    """The ledger table: one row per order whose invoice DealPOS confirmed."""

    def get_ledger(self, shop_id: str, order_id: str) -> LedgerRow | None:
        """What DealPOS has for an order, or None when no invoice was ever confirmed."""
        row = self._one(
            "SELECT * FROM ledger WHERE shop_id = ? AND order_id = ?", (shop_id, order_id)
        )
        if row is None:
            return None
        state = InvoiceState(row["record"], row["fulfillment"], row["payment"])
        lines = jsonutil.loads(row["lines"]) if row["lines"] else None
        return LedgerRow(row["number"], row["invoice_id"], state, lines)

    def put_ledger(self, shop_id: str, order_id: str, row: LedgerRow) -> None:
        """Record what DealPOS now has for an order."""
        lines = jsonutil.dumps(row.lines) if row.lines is not None else None
        self.db.execute(
            "INSERT OR REPLACE INTO ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                shop_id,
                order_id,
                row.number,
                row.invoice_id,
                row.state.existence,
                row.state.fulfillment,
                row.state.payment,
                lines,
                self.now(),
            ),
        )

    def drop_ledger(self, shop_id: str, order_id: str) -> None:
        """Forget an order's invoice: DealPOS no longer has it at all (verify found it missing)."""
        self.db.execute(
            "DELETE FROM ledger WHERE shop_id = ? AND order_id = ?", (shop_id, order_id)
        )
