"""What the engine needs from DealPOS: the calls pushing and resolving make, as protocols.

`sync_job.dealpos.client.DealposClient` implements them; tests use fakes (tests/fakes.py) and
the simulator behind a real client. The answers are already typed at the client's edge
(`sync_job.dealpos.wire`), so nothing here sees DealPOS's wire format.
"""

from __future__ import annotations

from typing import Protocol

from sync_job.dealpos.wire import CreatedInvoice, InvoiceView
from sync_job.domain.invoice import InvoiceDraft

LIST_PAGE = 100  # the invoice list's largest page (dealpos.md)


class InvoiceFinder(Protocol):
    """The DealPOS lookups resolving a call in doubt needs."""

    def find_invoice(self, outlet: str, number: str) -> InvoiceView | None: ...
    def find_invoice_by_id(self, invoice_id: str) -> InvoiceView | None: ...
    def list_invoices(
        self,
        outlet: str,
        tag: str,
        start_date: str,
        end_date: str,
        page_number: int,
        page_size: int = LIST_PAGE,
    ) -> list[InvoiceView]: ...


class DealposApi(InvoiceFinder, Protocol):
    """The DealPOS calls the pusher makes: the lookups, and the four that change an invoice."""

    def create_invoice(self, draft: InvoiceDraft) -> CreatedInvoice: ...
    def send_invoice(self, outlet: str, number: str, date: str) -> None: ...
    def pay_in_full(self, outlet: str, number: str, date: str, method: str, note: str) -> None: ...
    def delete_invoice(
        self, outlet: str, number: str, *, invoice_id: str | None = None
    ) -> None: ...
