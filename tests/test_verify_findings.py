"""The pure reconciliation: expected invoices against DealPOS's list, one finding per difference."""

from __future__ import annotations

from decimal import Decimal

from sync_job.domain.flow import NOTHING, RECYCLED, InvoiceState
from sync_job.engine.verify import (
    Expected,
    Finding,
    Seen,
    count_by_kind,
    find_drift,
    is_drift,
)

UNSENT = InvoiceState("active", "Unsent", "Unpaid")
SENT = InvoiceState("active", "Sent", "Unpaid")
PAID = InvoiceState("active", "Sent", "Paid")


def exp(
    order_id: str, target: InvoiceState = UNSENT, total: str | None = "100", **kw: object
) -> Expected:
    """An expected invoice the job created as TT-<id>."""
    options: dict[str, object] = {"created": target.existence != "none", **kw}
    amount = None if total is None else Decimal(total)
    return Expected(order_id, f"TT-{order_id}", target, amount, **options)  # type: ignore[arg-type]


def seen(
    reference: str, state: InvoiceState = UNSENT, amount: str = "100", number: str | None = None
) -> Seen:
    """A listed invoice."""
    return Seen(
        f"id-{number or reference}", number or f"TT-{reference}", reference, Decimal(amount), state
    )


def kinds(findings: list[Finding]) -> list[tuple[str, str]]:
    """(kind, order id) of each finding."""
    return [(f.kind, f.order_id) for f in findings]


def test_a_matching_mirror_has_no_findings() -> None:
    """Same state and amount ("100" equals "100.00"): nothing to report."""
    found = find_drift(
        {"1": exp("1"), "2": exp("2", PAID)}, [seen("1", amount="100.00"), seen("2", PAID)]
    )
    assert found == []


def test_an_invoice_absent_from_the_list_is_missing_and_fixable() -> None:
    """No row with the order's ReferenceNumber: missing, with the state it should have."""
    (finding,) = find_drift({"1": exp("1", SENT)}, [])
    assert (finding.kind, finding.number, finding.expected, finding.actual) == (
        "missing",
        "TT-1",
        "Sent+Unpaid",
        "no invoice",
    )
    assert finding.fixable and finding.seen is None


def test_two_active_invoices_with_one_reference_are_a_duplicate() -> None:
    """A second invoice typed by hand with the same ReferenceNumber: duplicate, not fixable."""
    (finding,) = find_drift({"1": exp("1")}, [seen("1"), seen("1", number="INV-77")])
    assert finding.kind == "duplicate" and not finding.fixable
    assert finding.actual == "TT-1, INV-77"


def test_a_recycled_copy_next_to_the_active_invoice_is_no_duplicate() -> None:
    """Only active invoices count towards a duplicate; the active one is compared."""
    rows = [seen("1", RECYCLED, number="OLD-1"), seen("1")]
    assert find_drift({"1": exp("1")}, rows) == []


def test_an_invoice_no_known_order_explains_is_unexpected() -> None:
    """A tagged invoice whose reference is not an order of the shop."""
    (finding,) = find_drift({}, [seen("999", number="HAND-1")])
    assert (finding.kind, finding.order_id, finding.number) == ("unexpected", "999", "HAND-1")
    assert not finding.fixable


def test_a_recycled_invoice_no_order_explains_is_ignored() -> None:
    """Something a person already put in the recycle bin is no drift."""
    assert find_drift({}, [seen("999", RECYCLED)]) == []


def test_an_invoice_for_an_order_that_wants_none_is_unexpected() -> None:
    """An unpaid order must have no invoice: one in DealPOS is unexpected."""
    (finding,) = find_drift({"1": exp("1", NOTHING)}, [seen("1")])
    assert (finding.kind, finding.expected) == ("unexpected", "no invoice")


def test_paid_by_hand_is_a_state_finding_repair_cannot_undo() -> None:
    """Payments only move forward: Paid where Unpaid is due is reported, not fixable."""
    (finding,) = find_drift({"1": exp("1", SENT)}, [seen("1", PAID)])
    assert (finding.kind, finding.expected, finding.actual) == ("state", "Sent+Unpaid", "Sent+Paid")
    assert not finding.fixable


def test_a_state_behind_the_target_is_fixable_on_our_invoice() -> None:
    """Unsent where Sent is due: a send closes it, so repair may plan it."""
    (finding,) = find_drift({"1": exp("1", PAID)}, [seen("1", UNSENT)])
    assert finding.kind == "state" and finding.fixable
    assert finding.seen is not None and finding.seen.number == "TT-1"


def test_restored_from_the_recycle_bin_is_fixable_only_when_we_made_it() -> None:
    """A cancelled order's invoice active again: delete it, but never one the job did not create."""
    (ours,) = find_drift({"1": exp("1", RECYCLED)}, [seen("1", SENT)])
    assert (ours.kind, ours.expected, ours.fixable) == ("state", "recycled", True)
    (theirs,) = find_drift({"1": exp("1", RECYCLED)}, [seen("1", SENT, number="HAND-1")])
    assert (theirs.kind, theirs.fixable) == ("state", False)
    (unknown,) = find_drift({"1": exp("1", RECYCLED, created=False)}, [seen("1", SENT)])
    assert not unknown.fixable


def test_recycled_when_active_is_due_is_not_fixable() -> None:
    """A person deleted an invoice the order still needs: the mirror cannot restore it."""
    (finding,) = find_drift({"1": exp("1", SENT)}, [seen("1", RECYCLED)])
    assert (finding.kind, finding.actual, finding.fixable) == ("state", "recycled", False)


def test_a_cancelled_order_without_any_invoice_is_fine() -> None:
    """Erased from the recycle bin (or never made): nothing to report."""
    assert find_drift({"1": exp("1", RECYCLED)}, []) == []


def test_an_amount_that_differs_is_a_total_finding() -> None:
    """The invoice's Amount is not what the job sent."""
    (finding,) = find_drift({"1": exp("1", total="150000")}, [seen("1", amount="151000")])
    assert (finding.kind, finding.expected, finding.actual) == ("total", "150000", "151000")
    assert not finding.fixable


def test_state_and_total_can_both_differ() -> None:
    """Two differences on one invoice are two findings."""
    found = find_drift({"1": exp("1", SENT)}, [seen("1", PAID, amount="90")])
    assert sorted(f.kind for f in found) == ["state", "total"]


def test_an_unknown_total_is_not_checked() -> None:
    """Lines cancelled after the invoice was made: the amount cannot be known, so no finding."""
    assert find_drift({"1": exp("1", total=None)}, [seen("1", amount="5")]) == []


def test_orders_in_the_outbox_are_pending_not_drift() -> None:
    """An order with actions still queued is reported as pending, whatever DealPOS shows."""
    found = find_drift({"1": exp("1", SENT, pending=True)}, [])
    assert kinds(found) == [("pending", "1")]
    assert not any(is_drift(f) for f in found)


def test_findings_are_sorted_and_counted() -> None:
    """Sorted by order id; counted by kind."""
    found = find_drift({"2": exp("2"), "1": exp("1", total="7")}, [seen("1"), seen("3")])
    assert kinds(found) == [("total", "1"), ("missing", "2"), ("unexpected", "3")]
    assert count_by_kind(found) == {"total": 1, "missing": 1, "unexpected": 1}
    assert found[0].as_dict() == {
        "kind": "total",
        "order_id": "1",
        "number": "TT-1",
        "expected": "7",
        "actual": "100",
    }


def test_our_invoice_is_known_by_its_id_on_a_tenant_that_renumbers() -> None:
    """DealPOS chose its own Number: the ledger's invoice ID still says the job made it."""
    mine = exp("1", RECYCLED, invoice_id="id-INV/2026/00001")
    (finding,) = find_drift({"1": mine}, [seen("1", SENT, number="INV/2026/00001")])
    assert (finding.kind, finding.fixable) == ("state", True)
