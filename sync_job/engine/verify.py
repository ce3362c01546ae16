"""Reconcile: what each order's invoice should be, against DealPOS's invoice list. Pure.

The inputs are typed and already gathered (see verify_shop.py): one `Expected` per order in
range, from the snapshot, the ledger and the outbox; one `Seen` per row of DealPOS's invoice list
for the shop's outlet and tag. The output is one `Finding` per difference, of one kind each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from sync_job.domain.flow import InvoiceState, plan_reaches

FindingKind = Literal["missing", "duplicate", "unexpected", "state", "total", "pending"]
# Drift: DealPOS differs from what the mirror should have made. `pending` is not drift: the
# order still has actions in the outbox, so DealPOS is allowed to lag behind.
DRIFT_KINDS: tuple[FindingKind, ...] = ("missing", "duplicate", "unexpected", "state", "total")
KINDS: tuple[FindingKind, ...] = (*DRIFT_KINDS, "pending")
NO_INVOICE = "no invoice"


@dataclass(frozen=True)
class Expected:
    """What DealPOS should show for one order, as far as the job knows."""

    order_id: str
    number: str  # the Number the job knows the invoice by (the ledger's, else prefix + id)
    target: InvoiceState  # the state the mirror converges to from what it did
    total: Decimal | None  # the amount it sent; None: not checked (e.g. lines cancelled since)
    created: bool = False  # the ledger says this job created the invoice
    invoice_id: str | None = None
    pending: bool = False  # actions still in the outbox (pending, in flight or quarantined)


@dataclass(frozen=True)
class Seen:
    """One row of DealPOS's invoice list, reduced to what the comparison needs."""

    id: str
    number: str
    reference: str
    amount: Decimal | None  # None: the list did not say; the total is then not checked
    state: InvoiceState


@dataclass(frozen=True)
class Finding:
    """One difference between the mirror and DealPOS."""

    kind: FindingKind
    order_id: str
    number: str
    expected: str
    actual: str
    fixable: bool = False  # repair can plan it through the outbox
    target: InvoiceState | None = None
    seen: Seen | None = None

    def as_dict(self) -> dict[str, str]:
        """The finding as `verify --json` prints it."""
        return {
            "kind": self.kind,
            "order_id": self.order_id,
            "number": self.number,
            "expected": self.expected,
            "actual": self.actual,
        }


def find_drift(expected: Mapping[str, Expected], seen: Iterable[Seen]) -> list[Finding]:
    """Every finding for the orders in `expected` and the listed invoices, sorted by order."""
    by_reference: dict[str, list[Seen]] = {}
    for row in seen:
        by_reference.setdefault(row.reference, []).append(row)
    findings: list[Finding] = []
    for order_id in sorted(expected):
        findings += _check_order(expected[order_id], by_reference.pop(order_id, []))
    for rows in by_reference.values():
        findings += [_unexplained(row) for row in rows if row.state.existence == "active"]
    return sorted(findings, key=lambda f: (f.order_id, f.number, f.kind))


def count_by_kind(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings of each kind (kinds without one left out)."""
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.kind] = counts.get(finding.kind, 0) + 1
    return counts


def is_drift(finding: Finding) -> bool:
    """True for a finding that means DealPOS is wrong (not merely behind the outbox)."""
    return finding.kind in DRIFT_KINDS


def _check_order(exp: Expected, rows: list[Seen]) -> list[Finding]:
    if exp.pending:
        actual = rows[0].state.describe() if len(rows) == 1 else _numbers(rows) or NO_INVOICE
        return [_finding("pending", exp, exp.target.describe(), actual)]
    active = [r for r in rows if r.state.existence == "active"]
    if len(active) > 1:
        return [_finding("duplicate", exp, f"one invoice {exp.number}", _numbers(active))]
    row = active[0] if active else (rows[0] if rows else None)
    if exp.target.existence == "none":
        if row is None or row.state.existence != "active":
            return []
        return [_finding("unexpected", exp, NO_INVOICE, row.state.describe(), row=row)]
    if row is None:
        if exp.target.existence == "recycled":
            return []  # erased from the recycle bin, or never made: nothing to hold on to
        return [_finding("missing", exp, exp.target.describe(), NO_INVOICE, fixable=True)]
    return _check_state(exp, row) + _check_total(exp, row)


def _check_state(exp: Expected, row: Seen) -> list[Finding]:
    have, want = row.state, exp.target
    if _same(have, want):
        return []
    # Fixable when the mirror's forward-only calls take DealPOS's state to the target, on an
    # invoice this job made (repair never deletes, sends or pays an invoice it did not create).
    ours = exp.created and (row.number == exp.number or row.id == exp.invoice_id)
    reachable = _same(plan_reaches(have, want), want)
    return [
        _finding(
            "state", exp, want.describe(), have.describe(), fixable=ours and reachable, row=row
        )
    ]


def _same(have: InvoiceState, want: InvoiceState) -> bool:
    """Equal states; in the recycle bin, fulfilment and payment no longer matter."""
    return have == want or have.existence == want.existence == "recycled"


def _check_total(exp: Expected, row: Seen) -> list[Finding]:
    if exp.total is None or row.amount is None or row.state.existence != "active":
        return []
    if row.amount == exp.total:
        return []
    return [_finding("total", exp, _money(exp.total), _money(row.amount), row=row)]


def _unexplained(row: Seen) -> Finding:
    return Finding(
        "unexpected",
        row.reference,
        row.number,
        "no invoice (no known order has this reference)",
        row.state.describe(),
        seen=row,
    )


def _finding(
    kind: FindingKind,
    exp: Expected,
    expected: str,
    actual: str,
    *,
    fixable: bool = False,
    row: Seen | None = None,
) -> Finding:
    number = row.number if row is not None else exp.number
    return Finding(kind, exp.order_id, number, expected, actual, fixable, exp.target, row)


def _numbers(rows: list[Seen]) -> str:
    return ", ".join(r.number for r in rows)


def _money(amount: Decimal) -> str:
    return f"{amount:f}"
