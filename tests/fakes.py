"""An in-memory DealPOS stand-in for pusher unit tests, with scripted failures."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sync_job.dealpos.wire import CreatedInvoice, InvoiceView, create_body, parse_invoice
from sync_job.domain.errors import Conflict, PermanentError
from sync_job.domain.invoice import InvoiceDraft


class FakeDealpos:
    """DealposApi (sync_job.engine.ports) over a dict; `script` queues failures per method.

    A scripted entry is (exception, applied): the exception is raised, after applying the call
    when `applied` is True (a response lost on the way back).
    """

    def __init__(
        self, known_skus: set[str] | None = None, *, renumber: bool = False, erase: bool = False
    ) -> None:
        self.invoices: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []
        self.script: dict[str, list[tuple[Exception, bool]]] = defaultdict(list)
        self.known_skus = known_skus
        self.renumber = renumber  # a tenant numbering invoices itself (INV/nnnnn)
        self.erase = erase  # a tenant erasing deleted invoices instead of recycling them

    def put_invoice(
        self,
        order_id: str,
        *,
        reference: str | None = None,
        status: str = "Active",
        fulfillment: str = "Unsent",
    ) -> None:
        """Place an invoice TT-<order_id> in DealPOS as if someone else had made it."""
        number = f"TT-{order_id}"
        self.invoices[number] = {
            "ID": f"id-{number}",
            "Number": number,
            "ReferenceNumber": reference or order_id,
            "Status": status,
            "FulfillmentStatus": fulfillment,
            "PaymentStatus": "Unpaid",
        }

    def _scripted(self, method: str) -> tuple[Exception, bool] | None:
        self.calls.append(method)
        return self.script[method].pop(0) if self.script[method] else None

    def _run(self, method: str, apply: Any) -> Any:
        scripted = self._scripted(method)
        if scripted is not None and not scripted[1]:
            raise scripted[0]
        result = apply()
        if scripted is not None:
            raise scripted[0]
        return result

    def create_invoice(self, draft: InvoiceDraft) -> CreatedInvoice:
        """Create, refusing duplicates (409) and unknown SKUs (400)."""
        body = create_body(draft)

        def apply() -> CreatedInvoice:
            if self.renumber:
                body["Number"] = f"INV/{len(self.invoices) + 1:05d}"
            if body["Number"] in self.invoices:
                raise Conflict(f"Invoice number {body['Number']} already exists", status=409)
            for v in body["Variants"]:
                if self.known_skus is not None and v["Code"] not in self.known_skus:
                    raise PermanentError(f"Variant code '{v['Code']}' not found", status=400)
            paid = "Paid" if body["Payments"] else "Unpaid"
            self.invoices[body["Number"]] = {
                "ID": f"id-{body['Number']}",
                "Number": body["Number"],
                "ReferenceNumber": body["ReferenceNumber"],
                "Status": "Active",
                "FulfillmentStatus": body["Fulfillment"],
                "PaymentStatus": paid,
                "body": body,
            }
            return CreatedInvoice(f"id-{body['Number']}", body["Number"])

        result: CreatedInvoice = self._run("create", apply)
        return result

    def _change(self, number: str, field: str, value: str, already: str) -> None:
        inv = self.invoices.get(number)
        if inv is None or inv["Status"] == "Cancelled":
            raise PermanentError(f"Invoice {number} not found", status=400)
        if inv[field] == value:
            raise PermanentError(f"Invoice {number} is already {already}", status=400)
        inv[field] = value

    def send_invoice(self, outlet: str, number: str, date: str) -> None:
        """Mark sent; refuse if already sent."""
        self._run("send", lambda: self._change(number, "FulfillmentStatus", "Sent", "Sent"))

    def pay_in_full(self, outlet: str, number: str, date: str, method: str, note: str) -> None:
        """Mark paid; refuse if already paid."""
        self._run("pay", lambda: self._change(number, "PaymentStatus", "Paid", "Paid"))

    def delete_invoice(self, outlet: str, number: str, *, invoice_id: str | None = None) -> None:
        """Move to the recycle bin (by ID when given); refuse if already there."""
        by_id = {inv["ID"]: n for n, inv in self.invoices.items()}
        if invoice_id is not None:
            number = by_id.get(invoice_id, f"(no invoice with ID {invoice_id})")

        def apply() -> None:
            inv = self.invoices.get(number)
            if inv is None or inv["Status"] == "Cancelled":
                raise PermanentError(f"Invoice {number} not found", status=400)
            if self.erase:
                del self.invoices[number]
                return
            inv["Status"] = "Cancelled"
            if inv["FulfillmentStatus"] == "Sent":
                inv["FulfillmentStatus"] = "Returned"

        self._run("delete", apply)

    def find_invoice(self, outlet: str, number: str) -> InvoiceView | None:
        """Look up by number (recycled ones too), read as the client reads an answer."""
        found = self._run("find", lambda: self.invoices.get(number))
        return None if found is None else parse_invoice(found)

    def find_invoice_by_id(self, invoice_id: str) -> InvoiceView | None:
        """Look up by DealPOS's ID (counted as a "find" like the lookup by number)."""
        by_id = {inv["ID"]: inv for inv in self.invoices.values()}
        found = self._run("find", lambda: by_id.get(invoice_id))
        return None if found is None else parse_invoice(found)

    def list_invoices(
        self,
        outlet: str,
        tag: str,
        start_date: str,
        end_date: str,
        page_number: int,
        page_size: int = 100,
    ) -> list[InvoiceView]:
        """Every invoice, a page at a time (dates are not filtered here)."""
        rows = [parse_invoice(inv) for inv in self.invoices.values()]
        page = rows[(page_number - 1) * page_size : page_number * page_size]
        result: list[InvoiceView] = self._run("list", lambda: page)
        return result
