"""Table tests: every row of flow.md §1 (desired state) and §3 (fewest calls)."""

from __future__ import annotations

import pytest

from sync_job.domain.flow import (
    NOTHING,
    RECYCLED,
    Action,
    InvoiceState,
    desired_state,
    is_active_return,
    plan_actions,
    project,
)

UNSENT_UNPAID = InvoiceState("active", "Unsent", "Unpaid")
SENT_UNPAID = InvoiceState("active", "Sent", "Unpaid")
SENT_PAID = InvoiceState("active", "Sent", "Paid")
UNSENT_PAID = InvoiceState("active", "Unsent", "Paid")


@pytest.mark.parametrize(
    ("status", "mode", "settle_always", "expected"),
    [
        ("UNPAID", "realtime", False, NOTHING),  # I row 1
        ("ON_HOLD", "realtime", False, UNSENT_UNPAID),  # I row 2
        ("AWAITING_SHIPMENT", "realtime", False, UNSENT_UNPAID),
        ("PARTIALLY_SHIPPING", "realtime", False, UNSENT_UNPAID),
        ("AWAITING_COLLECTION", "realtime", False, UNSENT_UNPAID),
        ("IN_TRANSIT", "realtime", False, SENT_UNPAID),  # I row 3
        ("DELIVERED", "realtime", False, SENT_UNPAID),
        ("COMPLETED", "realtime", False, SENT_UNPAID),  # Completed notes: not paid in real time
        ("COMPLETED", "download", False, SENT_PAID),  # ... paid by a manual download
        ("COMPLETED", "realtime", True, SENT_PAID),  # settle_completed = "always"
        ("IN_TRANSIT", "download", False, SENT_UNPAID),  # download settles COMPLETED only
        ("CANCELLED", "realtime", False, RECYCLED),  # II
        ("CANCELLED", "download", False, RECYCLED),
    ],
)
def test_desired_state_by_status(
    status: str, mode: str, settle_always: bool, expected: InvoiceState
) -> None:
    """Each TikTok status maps to the invoice state of flow.md §1."""
    got = desired_state(status, has_active_return=False, mode=mode, settle_always=settle_always)  # type: ignore[arg-type]
    assert got == expected


@pytest.mark.parametrize(
    "status", ["ON_HOLD", "AWAITING_SHIPMENT", "IN_TRANSIT", "DELIVERED", "COMPLETED"]
)
def test_active_return_makes_sent_and_paid(status: str) -> None:
    """A return that is not rejected or withdrawn makes the invoice Sent + Paid (seed III)."""
    assert desired_state(status, has_active_return=True, mode="realtime") == SENT_PAID


def test_cancellation_wins_over_a_return() -> None:
    """A cancelled order goes to the recycle bin even if a return exists."""
    assert desired_state("CANCELLED", has_active_return=True, mode="realtime") == RECYCLED


@pytest.mark.parametrize("status", ["TO_SHIP", "", "SOMETHING_NEW"])
def test_unknown_status_changes_nothing(status: str) -> None:
    """Unknown statuses give no desired state at all (record, raise attention, no DealPOS call)."""
    assert desired_state(status, has_active_return=False, mode="download") is None


@pytest.mark.parametrize(
    ("status", "active"),
    [
        ("RETURN_OR_REFUND_REQUEST_PENDING", True),
        ("AWAITING_BUYER_SHIP", True),
        ("RETURN_OR_REFUND_REQUEST_COMPLETE", True),
        ("REFUND_OR_RETURN_REQUEST_REJECT", False),
        ("RETURN_OR_REFUND_REQUEST_CANCEL", False),
        ("REPLACEMENT_REQUEST_PENDING", True),
        ("REPLACEMENT_REQUEST_REFUND_SUCCESS", True),
        ("REPLACEMENT_REQUEST_COMPLETE", True),
        ("REPLACEMENT_REQUEST_REJECT", False),
        ("REPLACEMENT_REQUEST_CANCEL", False),
        ("SOME_STATUS_TIKTOK_ADDS_LATER", True),
    ],
)
def test_which_returns_count(status: str, active: bool) -> None:
    """Rejected and withdrawn returns and replacements stop counting; all others count."""
    assert is_active_return(status) is active


@pytest.mark.parametrize(
    ("known", "desired", "expected"),
    [
        (NOTHING, NOTHING, []),  # unpaid
        (NOTHING, RECYCLED, []),  # cancelled before any invoice
        (NOTHING, UNSENT_UNPAID, [Action("create", "Unsent", "Unpaid")]),
        (NOTHING, SENT_UNPAID, [Action("create", "Sent", "Unpaid")]),  # first seen late: one call
        (NOTHING, SENT_PAID, [Action("create", "Sent", "Paid")]),
        (UNSENT_UNPAID, UNSENT_UNPAID, []),
        (UNSENT_UNPAID, SENT_UNPAID, [Action("send")]),
        (SENT_UNPAID, SENT_PAID, [Action("pay")]),
        (UNSENT_UNPAID, SENT_PAID, [Action("send"), Action("pay")]),
        (UNSENT_UNPAID, RECYCLED, [Action("delete")]),  # cancel after the invoice
        (SENT_PAID, RECYCLED, [Action("delete")]),
        (RECYCLED, RECYCLED, []),
        (RECYCLED, SENT_PAID, []),  # nothing comes back from the recycle bin
        (SENT_PAID, SENT_UNPAID, []),  # never downgrade (a real-time run after a backfill)
        (SENT_UNPAID, UNSENT_UNPAID, []),  # a stale copy never un-sends
        (UNSENT_PAID, SENT_PAID, [Action("send")]),
    ],
)
def test_plan_actions(known: InvoiceState, desired: InvoiceState, expected: list[Action]) -> None:
    """The calls from what DealPOS has to the desired state are exactly those of flow.md §3."""
    actions = plan_actions(known, desired)
    assert actions == expected
    if actions:
        # Following the plan reaches the target.
        reached = project(known, actions)
        assert reached.existence == desired.existence
        assert desired.existence != "active" or reached == desired


def test_every_lifecycle_costs_one_call_per_observed_change() -> None:
    """Paid → sent → completed (download) costs create + send + pay: one call per change."""
    known, total = NOTHING, 0
    for status, mode in [
        ("AWAITING_SHIPMENT", "realtime"),
        ("AWAITING_SHIPMENT", "realtime"),
        ("IN_TRANSIT", "realtime"),
        ("DELIVERED", "realtime"),
        ("COMPLETED", "realtime"),
        ("COMPLETED", "download"),
    ]:
        desired = desired_state(status, has_active_return=False, mode=mode)  # type: ignore[arg-type]
        assert desired is not None
        actions = plan_actions(known, desired)
        total += len(actions)
        known = project(known, actions)
    assert total == 3
    assert known == SENT_PAID
