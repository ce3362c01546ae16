"""The probe: each tenant behaviour is reported as held / did not hold, and it always cleans up."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from sync_job.dealpos.wire import CreatedInvoice, InvoiceView
from sync_job.domain.errors import PermanentError
from sync_job.domain.invoice import InvoiceDraft
from sync_job.engine.probe import ProbeFailed, ProbeSettings, describe_calls, run_probe

SETTINGS = ProbeSettings(
    outlet="Online Store",
    invoice_prefix="TT-",
    variant="MUG-RED",
    payment_method="TikTok Shop",
    customer="TikTok Customer",
    timezone_date=lambda ts: "2026-11-30",
)
NOW = 1_796_000_000.0


@dataclass
class FakeTenant:
    """A DealPOS tenant in memory, with the behaviours the probe must tell apart."""

    renumber: bool = False
    documented_names: bool = True
    discount_per_unit: bool = False
    erase_on_delete: bool = False
    fail_send: bool = False
    calls: list[str] = field(default_factory=list)
    invoice: InvoiceView | None = None

    def create_invoice(self, draft: InvoiceDraft) -> CreatedInvoice:
        self.calls.append("create")
        line = draft.lines[0]
        per_unit = (line.price - line.discount) * line.quantity
        amount = per_unit if self.discount_per_unit else draft.total
        paid = sum(p.amount for p in draft.payments) >= amount
        number = "INV/2026/00001" if self.renumber else draft.number
        self.invoice = InvoiceView(
            id="guid-1",
            number=number,
            reference=draft.reference,
            outlet=draft.outlet,
            date=draft.date,
            amount=amount,
            payment="Paid" if paid else "Partial",
            delivery="Unsent",
            status="Active",
            tag=draft.tag,
            created="2026-11-30T00:00:00Z",
            field_names="documented" if self.documented_names else "legacy",
        )
        return CreatedInvoice("guid-1", number)

    def find_invoice_by_id(self, invoice_id: str) -> InvoiceView | None:
        self.calls.append("detail")
        return self.invoice

    def send_invoice(self, outlet: str, number: str, date: str) -> None:
        self.calls.append("send")
        if self.fail_send:
            raise PermanentError("Invoice is locked by another user")
        assert self.invoice is not None and number == self.invoice.number
        self.invoice = replace(self.invoice, delivery="Sent")

    def pay_in_full(self, outlet: str, number: str, date: str, method: str, note: str) -> None:
        self.calls.append("pay")
        assert self.invoice is not None
        self.invoice = replace(self.invoice, payment="Paid")

    def delete_invoice(self, outlet: str, number: str, *, invoice_id: str | None = None) -> None:
        self.calls.append("delete")
        assert invoice_id == "guid-1"
        assert self.invoice is not None
        self.invoice = None if self.erase_on_delete else replace(self.invoice, status="Cancelled")


def _values(tenant: FakeTenant) -> dict[str, tuple[str, bool | None]]:
    report = run_probe(tenant, SETTINGS, clock=lambda: NOW)
    return {f.name: (f.value, f.held) for f in report.findings}


def test_a_tenant_as_assumed_holds_everything_in_five_calls() -> None:
    """Kept number, per-line discount, paid at create, recycle bin: all held, no pay call."""
    tenant = FakeTenant()
    report = run_probe(tenant, SETTINGS, clock=lambda: NOW)
    assert report.all_held
    assert report.number_sent == "TT-PROBE-1796000000"
    assert tenant.calls == ["create", "detail", "send", "delete", "detail"]
    values = {f.name: f.value for f in report.findings}
    assert values == {
        "numbering": "kept",
        "detail_fields": "documented",
        "discount": "per_line",
        "payment_at_create": "paid",
        "delete": "recycle",
    }


@pytest.mark.parametrize(
    ("tenant", "name", "expected"),
    [
        (FakeTenant(renumber=True), "numbering", ("renumbers", False)),
        (FakeTenant(documented_names=False), "detail_fields", ("legacy", None)),
        (FakeTenant(discount_per_unit=True), "discount", ("per_unit", False)),
        (FakeTenant(erase_on_delete=True), "delete", ("erase", False)),
    ],
)
def test_each_tenant_difference_is_detected(
    tenant: FakeTenant, name: str, expected: tuple[str, bool | None]
) -> None:
    """Every behaviour the job could not confirm is told apart from the assumed one."""
    assert _values(tenant)[name] == expected


def test_a_payment_at_create_that_leaves_it_partial_is_reported_and_paid() -> None:
    """Per-unit discount makes the paid amount exceed the total here; a short one is Partial."""

    class ShortPay(FakeTenant):
        def create_invoice(self, draft: InvoiceDraft) -> CreatedInvoice:
            return super().create_invoice(replace(draft, payments=()))

    tenant = ShortPay()
    values = _values(tenant)
    assert values["payment_at_create"] == ("partial", False)
    assert "pay" in tenant.calls  # settled with AddPaymentFull before the delete


def test_a_failure_after_the_create_deletes_the_probe_invoice() -> None:
    """The probe never leaves its invoice active, and says it cleaned up."""
    tenant = FakeTenant(fail_send=True)
    with pytest.raises(ProbeFailed) as caught:
        run_probe(tenant, SETTINGS, clock=lambda: NOW)
    assert tenant.calls[-1] == "delete"
    assert tenant.invoice is not None and tenant.invoice.status == "Cancelled"
    assert [(f.name, f.value) for f in caught.value.report.findings][-1] == ("cleanup", "deleted")
    assert "locked by another user" in str(caught.value)


def test_a_refused_create_leaves_nothing_to_clean_up() -> None:
    """An unknown variant is refused at once: one call, a clear error."""

    class Refusing(FakeTenant):
        def create_invoice(self, draft: InvoiceDraft) -> CreatedInvoice:
            self.calls.append("create")
            raise PermanentError("Variant MUG-RED not found")

    tenant = Refusing()
    with pytest.raises(ProbeFailed, match="Variant MUG-RED not found"):
        run_probe(tenant, SETTINGS, clock=lambda: NOW)
    assert tenant.calls == ["create"]


def test_the_description_names_every_call_and_the_amounts() -> None:
    """Without --yes the probe prints what it would do: six calls, the invoice it would make."""
    lines = describe_calls(SETTINGS, NOW)
    assert len(lines) == 6
    assert "TT-PROBE-1796000000" in lines[0] and "2 x MUG-RED" in lines[0]
    assert "paid 19000" in lines[0]
