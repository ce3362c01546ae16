"""The seed's three tables as pure functions: TikTok state → desired invoice → fewest actions.

Nothing here does I/O. `desired_state` is flow.md §1, `plan_actions` is flow.md §3.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Mode = Literal["realtime", "download"]
Existence = Literal["none", "active", "recycled"]  # no invoice, one, or in the recycle bin
Fulfillment = Literal["Unsent", "Sent"]
Payment = Literal["Unpaid", "Paid"]
ActionKind = Literal["create", "send", "pay", "delete"]

PAID_UNSENT = frozenset(
    {"ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION"}
)
SENT = frozenset({"IN_TRANSIT", "DELIVERED"})
KNOWN_STATUSES = PAID_UNSENT | SENT | {"UNPAID", "COMPLETED", "CANCELLED"}

# A return or replacement request that was rejected or withdrawn no longer counts; every other
# status (including ones TikTok adds later) does.
INACTIVE_RETURN_STATUSES = frozenset(
    {
        "REFUND_OR_RETURN_REQUEST_REJECT",
        "RETURN_OR_REFUND_REQUEST_CANCEL",
        "REPLACEMENT_REQUEST_REJECT",
        "REPLACEMENT_REQUEST_CANCEL",
    }
)


@dataclass(frozen=True)
class InvoiceState:
    """What a DealPOS invoice looks like (or should look like) for one order."""

    existence: Existence
    fulfillment: Fulfillment = "Unsent"
    payment: Payment = "Unpaid"

    def describe(self) -> str:
        """Short human text, e.g. 'Sent+Unpaid', 'recycled', 'none'."""
        if self.existence == "active":
            return f"{self.fulfillment}+{self.payment}"
        return self.existence


NOTHING = InvoiceState("none")
RECYCLED = InvoiceState("recycled")


@dataclass(frozen=True)
class Action:
    """One DealPOS call to make; a create carries the state to create the invoice in."""

    kind: ActionKind
    fulfillment: Fulfillment = "Unsent"
    payment: Payment = "Unpaid"


def is_active_return(return_status: str) -> bool:
    """True when a return/refund request still counts (not rejected, not withdrawn)."""
    return return_status not in INACTIVE_RETURN_STATUSES


def desired_state(
    status: str, *, has_active_return: bool, mode: Mode, settle_always: bool = False
) -> InvoiceState | None:
    """The invoice an order should have (flow.md §1); None for an unknown status."""
    if status not in KNOWN_STATUSES:
        return None
    if status == "CANCELLED":
        # Cancellation wins over a return: the invoice (if any) goes to the recycle bin.
        return RECYCLED
    if has_active_return:
        return InvoiceState("active", "Sent", "Paid")
    if status == "UNPAID":
        return NOTHING
    if status in PAID_UNSENT:
        return InvoiceState("active", "Unsent", "Unpaid")
    if status in SENT:
        return InvoiceState("active", "Sent", "Unpaid")
    settle = mode == "download" or settle_always
    return InvoiceState("active", "Sent", "Paid" if settle else "Unpaid")


def plan_actions(known: InvoiceState, desired: InvoiceState) -> list[Action]:
    """The fewest DealPOS calls from `known` to `desired` (flow.md §3); only forward."""
    if desired.existence == "none" or known.existence == "recycled":
        return []
    if desired.existence == "recycled":
        return [Action("delete")] if known.existence == "active" else []
    if known.existence == "none":
        return [Action("create", desired.fulfillment, desired.payment)]
    actions = []
    if known.fulfillment == "Unsent" and desired.fulfillment == "Sent":
        actions.append(Action("send"))
    if known.payment == "Unpaid" and desired.payment == "Paid":
        actions.append(Action("pay"))
    return actions


def plan_reaches(known: InvoiceState, desired: InvoiceState) -> InvoiceState:
    """Where the planned calls leave an invoice at `known`: `desired`, as far as forward goes."""
    return project(known, plan_actions(known, desired))


def apply_action(state: InvoiceState, action: Action) -> InvoiceState:
    """The invoice state after `action` succeeded."""
    if action.kind == "create":
        return InvoiceState("active", action.fulfillment, action.payment)
    if action.kind == "send":
        return replace(state, fulfillment="Sent")
    if action.kind == "pay":
        return replace(state, payment="Paid")
    return replace(state, existence="recycled")


def project(state: InvoiceState, actions: list[Action]) -> InvoiceState:
    """The invoice state after every action in `actions` succeeded, in order."""
    for action in actions:
        state = apply_action(state, action)
    return state
