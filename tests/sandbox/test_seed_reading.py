"""The simulator's own reading of the seed's tables, and the mirror check that rests on it."""

from __future__ import annotations

import itertools

import pytest

from sync_job.domain.flow import INACTIVE_RETURN_STATUSES, KNOWN_STATUSES, desired_state
from sync_job.sandbox import DealposSimulator, ManualClock, TikTokSimulator, check, dealpos_variants
from sync_job.sandbox.seed_reading import return_counts, seed_invoice

RETURNS = (
    "RETURN_OR_REFUND_REQUEST_PENDING",
    "REFUND_OR_RETURN_REQUEST_COMPLETE",
    *sorted(INACTIVE_RETURN_STATUSES),
)


@pytest.mark.parametrize("status", [*sorted(KNOWN_STATUSES), "SOMETHING_NEW"])
def test_the_seed_reading_agrees_with_the_job_everywhere(status: str) -> None:
    """Every status × each return status (or none) × settled or not: the two readings agree."""
    for returns, settled in itertools.product([(), *((r,) for r in RETURNS)], (False, True)):
        job = desired_state(
            status,
            has_active_return=any(r not in INACTIVE_RETURN_STATUSES for r in returns),
            mode="download" if settled else "realtime",
        )
        assert seed_invoice(status, returns, settled=settled) == job, (status, returns, settled)


def test_rejected_or_withdrawn_requests_do_not_count() -> None:
    """The simulator reads "rejected or withdrawn" from the status names itself."""
    assert [return_counts(s) for s in RETURNS] == [True, True, False, False, False, False]


def test_a_job_reading_that_strays_from_the_seed_fails_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Were the job to want a paid order invoiced as Sent, the check says so and is not ok."""
    clock = ManualClock()
    tiktok = TikTokSimulator("k", "s", [("shop", "c")], clock=clock, rate_limit_per_second=None)
    dealpos = DealposSimulator("id", "secret", variants=dealpos_variants(), clock=clock)
    tiktok.put_order("shop", {"id": "1", "status": "UNPAID", "create_time": 1, "update_time": 2})
    assert check.compare_mirror(tiktok, dealpos, "shop").ok
    monkeypatch.setattr(
        check, "desired_state", lambda *a, **k: seed_invoice("IN_TRANSIT", (), settled=False)
    )
    report = check.compare_mirror(tiktok, dealpos, "shop")
    assert not report.ok
    assert report.disagreements == ["1: job wants Sent+Unpaid, seed none"]
