"""A run's wall-clock budget: long Retry-After holds end the run on time, exit 0, rest pending."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sync_job.engine.budget import BudgetSpent, RunBudget
from sync_job.sandbox.faults import FaultConfig
from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.state.store import Store
from tests.e2e.conftest import SHOP, past_clock, running_sandbox


def test_a_wait_past_the_deadline_is_refused_at_once() -> None:
    """Within the budget a wait happens; one that would end past it raises without sleeping."""
    now, slept = [100.0], list[float]()
    budget = RunBudget(60, sleep=slept.append, monotonic=lambda: now[0])
    budget.sleep(1000)  # not started: no budget yet
    budget.start()
    budget.sleep(30)
    now[0] += 30
    with pytest.raises(BudgetSpent, match="wait of 31 s"):
        budget.sleep(31)
    assert slept == [1000, 30] and not budget.spent()
    now[0] += 30
    assert budget.spent()
    with pytest.raises(BudgetSpent, match="budget of 60 s is spent"):
        budget.check()
    budget.clear()
    assert not budget.spent()


@pytest.mark.e2e
def test_once_stuck_in_quota_holds_ends_within_its_budget(tmp_path: Path) -> None:
    """DealPOS answers 429 + Retry-After 300 to everything: `once` stops on time, exit 0."""
    holds = FaultConfig(rate_limited=1.0, retry_after_seconds=300)
    with running_sandbox(tmp_path, dealpos_faults=holds) as box:
        box.write_config(**{"sync.run_budget_seconds": 10, "dealpos.rate_window_seconds": 180})
        gen = LifecycleGenerator(box.tiktok, SHOP, seed=31, clock=past_clock, unknown_sku_share=0)
        gen.bulk_create(5)
        began = time.monotonic()
        proc = box.run("once")
        assert time.monotonic() - began < 60  # without the budget: 5 min holds, many of them
        assert "run budget spent" in proc.stderr
        shop = box.status()["shops"][0]
        assert shop["last_run"]["status"] == "ok"
        assert shop["outbox"]["pending"] + shop["outbox"]["in_flight"] == 5
        # The 300 s hold DealPOS asked for is shared through the state file (every process
        # waits it out); let it pass instead of waiting for real.
        store = Store.open(box.state_path)
        (until,) = store.db.execute("SELECT until FROM quota_holds").fetchone()
        assert until > time.time() + 200
        store.db.execute("UPDATE quota_holds SET until = 0")
        store.close()
        box.dealpos.set_faults(FaultConfig())
        box.write_config(**{"dealpos.rate_window_seconds": 1})
        box.settle()
        assert box.report().ok
