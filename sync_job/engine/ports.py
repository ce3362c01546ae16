"""What the engine needs from DealPOS: the calls pushing, resolving and verify make, as protocols,
and the one way to read the invoice list page by page (`iter_invoices`).

`sync_job.dealpos.client.DealposClient` implements them; tests use fakes (tests/fakes.py) and
the simulator behind a real client. The answers are already typed at the client's edge
(`sync_job.dealpos.wire`), so nothing here sees DealPOS's wire format.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Protocol, TypeVar

from sync_job.dealpos.wire import CreatedInvoice, InvoiceView
from sync_job.domain.invoice import InvoiceDraft

LIST_PAGE = 100  # the invoice list's largest page (dealpos.md)

Row = TypeVar("Row", covariant=True)


class InvoicePages(Protocol[Row]):
    """DealPOS's invoice list: one page of an outlet's invoices with a tag, by invoice date."""

    def list_invoices(
        self,
        outlet: str,
        tag: str,
        start_date: str,
        end_date: str,
        page_number: int,
        page_size: int = LIST_PAGE,
    ) -> Sequence[Row]: ...


def iter_invoices(
    pages: InvoicePages[Row],
    outlet: str,
    tag: str,
    dates: tuple[str, str],
    max_pages: int | None = None,
) -> Iterator[Row]:
    """Every listed invoice, page by page; a short page is the last (no call past it)."""
    numbers = itertools.count(1) if max_pages is None else range(1, max_pages + 1)
    for page_number in numbers:
        page = pages.list_invoices(outlet, tag, dates[0], dates[1], page_number, LIST_PAGE)
        yield from page
        if len(page) < LIST_PAGE:
            return


class InvoiceFinder(InvoicePages[InvoiceView], Protocol):
    """The DealPOS lookups resolving a call in doubt needs: by ID, by Number, and the list."""

    def find_invoice(self, outlet: str, number: str) -> InvoiceView | None: ...
    def find_invoice_by_id(self, invoice_id: str) -> InvoiceView | None: ...


class DealposApi(InvoiceFinder, Protocol):
    """The DealPOS calls the pusher makes: the lookups, and the four that change an invoice."""

    def create_invoice(self, draft: InvoiceDraft) -> CreatedInvoice: ...
    def send_invoice(self, outlet: str, number: str, date: str) -> None: ...
    def pay_in_full(self, outlet: str, number: str, date: str, method: str, note: str) -> None: ...
    def delete_invoice(
        self, outlet: str, number: str, *, invoice_id: str | None = None
    ) -> None: ...
