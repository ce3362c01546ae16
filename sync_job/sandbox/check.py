"""Compare the DealPOS simulator's final state with the state TikTok's final state calls for.

Used by the end-to-end tests, the chaos soak and the benchmarks: for every TikTok order, the
invoice the seed's tables call for must be exactly what DealPOS holds, with no duplicates. That
invoice is the simulator's own reading of the seed (seed_reading.py); where the job's reading
(flow.desired_state) differs, the order is reported as a disagreement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sync_job.domain.flow import InvoiceState, Mode, desired_state, is_active_return
from sync_job.sandbox.dealpos_sim import DealposSimulator
from sync_job.sandbox.invoices import Invoice
from sync_job.sandbox.seed_reading import seed_invoice
from sync_job.sandbox.tiktok_sim import TikTokSimulator


@dataclass
class MirrorReport:
    """What differs between the mirror and what it should be."""

    orders: int = 0
    invoices: int = 0
    duplicates: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    lost_cancellations: list[str] = field(default_factory=list)
    excused: list[str] = field(default_factory=list)  # quarantined with an attention item
    # Paid by a return that was later rejected or withdrawn: payments are never undone (flow.md §3).
    paid_by_past_return: list[str] = field(default_factory=list)
    # Orders where the job's desired state and the simulator's own reading of the seed disagree.
    disagreements: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when DealPOS equals the desired state for every order."""
        return not (
            self.duplicates
            or self.missing
            or self.wrong
            or self.lost_cancellations
            or self.disagreements
        )

    def summary(self) -> str:
        """One line of figures."""
        return (
            f"orders {self.orders}, invoices {self.invoices}, duplicates {len(self.duplicates)}, "
            f"missing {len(self.missing)}, wrong {len(self.wrong)}, lost cancellations "
            f"{len(self.lost_cancellations)}, quarantined with attention {len(self.excused)}, "
            f"paid by a withdrawn return {len(self.paid_by_past_return)}, "
            f"job and seed reading disagree {len(self.disagreements)}"
        )


def invoice_state(invoice: Invoice) -> InvoiceState:
    """The simulator's invoice as an InvoiceState."""
    if invoice.status == "Cancelled":
        return InvoiceState("recycled")
    sent = invoice.fulfillment in ("Sent", "Returned")
    return InvoiceState(
        "active",
        "Sent" if sent else "Unsent",
        "Paid" if invoice.payment_status == "Paid" else "Unpaid",
    )


def desired_for(order: dict[str, Any], returns: Iterable[dict[str, Any]], mode: Mode,
                settle_always: bool) -> InvoiceState | None:  # fmt: skip
    """The desired invoice of one simulator order, given its returns."""
    active = any(is_active_return(str(r.get("return_status"))) for r in returns)
    return desired_state(str(order.get("status")), has_active_return=active, mode=mode,
                         settle_always=settle_always)  # fmt: skip


def compare_mirror(
    tiktok: TikTokSimulator,
    dealpos: DealposSimulator,
    shop_id: str,
    *,
    mode: Mode = "realtime",
    settle_always: bool = False,
    quarantined: Iterable[str] = (),
) -> MirrorReport:
    """Check every TikTok order against DealPOS; `quarantined` orders may lack their invoice."""
    excused = set(quarantined)
    returns: dict[str, list[dict[str, Any]]] = {}
    for ret in tiktok.returns(shop_id):
        returns.setdefault(str(ret["order_id"]), []).append(ret)
    by_ref = dealpos.by_reference()
    report = MirrorReport(invoices=len(dealpos.invoices()))
    for order in tiktok.orders(shop_id):
        report.orders += 1
        oid = str(order["id"])
        found = by_ref.get(oid, [])
        desired = desired_for(order, returns.get(oid, []), mode, settle_always)
        seed = seed_invoice(
            str(order.get("status")),
            (str(r.get("return_status")) for r in returns.get(oid, [])),
            settled=mode == "download" or settle_always,
        )
        if seed != desired:  # the check rests on the seed's table, not on the job's reading
            report.disagreements.append(f"{oid}: job wants {_text(desired)}, seed {_text(seed)}")
            desired = seed
        if oid in returns and _paid_by_past_return(desired, found):
            report.paid_by_past_return.append(oid)
            continue
        _check_order(report, oid, desired, found, oid in excused)
    return report


def _text(state: InvoiceState | None) -> str:
    return "nothing (unknown status)" if state is None else state.describe()


def _paid_by_past_return(desired: InvoiceState | None, found: list[Invoice]) -> bool:
    """True when the only difference is a payment a since-withdrawn return made."""
    if desired is None or desired.payment != "Unpaid" or len(found) != 1:
        return False
    return invoice_state(found[0]) == replace(desired, payment="Paid")


def _check_order(report: MirrorReport, oid: str, desired: InvoiceState | None,
                 found: list[Invoice], excused: bool) -> None:  # fmt: skip
    if len(found) > 1:
        report.duplicates.append(oid)
        return
    have = invoice_state(found[0]) if found else None
    if desired is None:  # unknown status: whatever was there stays; nothing to check
        return
    if desired.existence == "none":
        if have is not None:
            report.wrong.append(f"{oid}: want no invoice, have {have.describe()}")
        return
    if desired.existence == "recycled":
        if have is not None and have.existence != "recycled":
            report.lost_cancellations.append(f"{oid}: cancelled, invoice still {have.describe()}")
        return
    if have == desired:
        return
    if excused and have is None:
        report.excused.append(oid)
    elif have is None:
        report.missing.append(f"{oid}: want {desired.describe()}, no invoice")
    else:
        report.wrong.append(f"{oid}: want {desired.describe()}, have {have.describe()}")
