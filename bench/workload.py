"""The mixed workload of figures 1 and 3: orders move through their lifecycles between runs.

Each run: the generator makes its changes on a hand-moved clock, the clock passes the lag, the
theoretical minimum of DealPOS calls is computed from what the simulator holds at that moment,
then one real `once` runs in process (fresh App, as cron would start it) against both
simulators over loopback HTTP, with a real SQLite file. The simulators count every call.
"""

from __future__ import annotations

import math
import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import harness
from sync_job.domain.flow import NOTHING, InvoiceState, plan_actions, project
from sync_job.sandbox.check import MirrorReport, compare_mirror, desired_for
from sync_job.sandbox.clock import ManualClock
from sync_job.sandbox.faults import FaultConfig
from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.sandbox.invoices import TenantMode
from sync_job.sandbox.server import Request, Response
from sync_job.sandbox.tiktok_sim import TikTokSimulator
from sync_job.service.config import Config
from sync_job.state.store import Store

LAG = 120  # the default [sync] lag_seconds
RUN_EVERY = 1800  # simulated time between two runs (cron every 30 minutes)
EVENT_SECONDS = 0.5  # simulated time between two generator changes
MOVE_ODDS = (0.6, 0.25)  # chance an open order moves one step, and then a second one, per run
DETAIL = "GET /order/202309/orders"
SEARCHES = {
    "POST /order/202309/orders/search": 100,
    "POST /return_refund/202309/returns/search": 50,
}


class WindowedTikTok(TikTokSimulator):
    """The TikTok simulator, noting the window of every search's first page (server side)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.windows: list[tuple[str, int, int]] = []

    def handle(self, request: Request) -> Response | None:
        """Note which window a search starts reading, then answer as the simulator does."""
        if request.endpoint in SEARCHES and not request.query.get("page_token"):
            body = harness.json_object(request.body)
            window = int(body["update_time_ge"]), int(body["update_time_lt"])
            self.windows.append((request.endpoint, *window))
        return super().handle(request)


@dataclass
class RunFigures:
    """What one run needed and what it did."""

    orders: int
    minimum: Counter[str]
    dealpos: dict[str, dict[str, int]]
    searches: int
    pages_needed: int
    details: int  # order detail calls (returns of orders never seen)


@dataclass
class Workload:
    """The whole workload's runs, plus the final mirror check."""

    runs: list[RunFigures] = field(default_factory=list)
    mirror: MirrorReport | None = None
    settle_runs: int = 0

    @property
    def minimum(self) -> Counter[str]:
        """The theoretical minimum per action kind, over all runs."""
        return sum((r.minimum for r in self.runs), Counter[str]())

    def dealpos_calls(self) -> Counter[tuple[str, str]]:
        """DealPOS calls over all runs, by (endpoint, outcome)."""
        total: Counter[tuple[str, str]] = Counter()
        for run in self.runs:
            for endpoint, outcomes in run.dealpos.items():
                for outcome, n in outcomes.items():
                    total[(endpoint, outcome)] += n
        return total


class Minimum:
    """The fewest DealPOS calls (flow.md §3) for the changes observed at each run."""

    def __init__(self, settle_always: bool) -> None:
        self.settle_always = settle_always
        self.known: dict[str, InvoiceState] = {}

    def observe(self, tiktok: TikTokSimulator) -> Counter[str]:
        """Count the actions that take DealPOS from what it had to what each order now calls for."""
        returns: dict[str, list[dict[str, Any]]] = {}
        for ret in tiktok.returns(harness.SHOP):
            returns.setdefault(str(ret["order_id"]), []).append(ret)
        needed: Counter[str] = Counter()
        for order in tiktok.orders(harness.SHOP):
            oid = str(order["id"])
            desired = desired_for(order, returns.get(oid, []), "realtime", self.settle_always)
            if desired is None:
                continue
            have = self.known.get(oid, NOTHING)
            actions = plan_actions(have, desired)
            needed.update(a.kind for a in actions)
            self.known[oid] = project(have, actions)
        return needed


def _move_orders(gen: LifecycleGenerator, clock: ManualClock, rng: random.Random) -> None:
    """Move each open order one step with some odds, sometimes two (unseen in between)."""
    for oid in gen.open_orders():
        for odds in MOVE_ODDS:
            if rng.random() >= odds:
                break
            clock.advance(EVENT_SECONDS)
            try:
                gen.move(oid)
            except ValueError:
                break  # the first step made it final


def _arrivals(orders: int, runs: int) -> list[int]:
    """New orders per run: all of them arrive in the first 60% of the runs."""
    arriving = max(1, math.ceil(runs * 0.6))
    share = [orders // arriving + (1 if n < orders % arriving else 0) for n in range(arriving)]
    return share + [0] * (runs - arriving)


def _pages_needed(tiktok: TikTokSimulator, windows: list[tuple[str, int, int]]) -> int:
    """Σ over the windows read of ceil(items in window / page size); an empty window needs 1."""
    stamps = {
        "POST /order/202309/orders/search": [
            int(o["update_time"]) for o in tiktok.orders(harness.SHOP)
        ],
        "POST /return_refund/202309/returns/search": [
            int(r["update_time"]) for r in tiktok.returns(harness.SHOP)
        ],
    }
    total = 0
    for endpoint, start, end in windows:
        count = sum(1 for t in stamps[endpoint] if start <= t < end)
        total += max(1, math.ceil(count / SEARCHES[endpoint]))
    return total


Calls = dict[str, dict[str, int]]  # endpoint -> outcome -> count, as CallCounter.snapshot()


def _calls_since(before: Calls, after: Calls) -> Calls:
    out: Calls = {}
    for endpoint, outcomes in after.items():
        for outcome, n in outcomes.items():
            delta = n - before.get(endpoint, {}).get(outcome, 0)
            if delta:
                out.setdefault(endpoint, {})[outcome] = delta
    return out


@dataclass
class _Rig:
    """The simulators, clock, generator and config of one workload."""

    clock: ManualClock
    tiktok: WindowedTikTok
    dealpos: harness.TimedDealpos
    gen: LifecycleGenerator
    config: Config
    minimum: Minimum
    last_run: float = 0.0

    def one_run(self) -> RunFigures:
        """Observe the minimum, run `once`, and collect what it did."""
        self.clock.set(max(self.clock() + LAG + 1, self.last_run + RUN_EVERY))
        self.last_run = self.clock()
        needed = self.minimum.observe(self.tiktok)
        before = self.dealpos.calls.snapshot()
        searched = self.tiktok.calls.snapshot()
        self.tiktok.windows.clear()
        harness.run_once(self.config, clock=self.clock)
        searches = _calls_since(searched, self.tiktok.calls.snapshot())
        return RunFigures(
            orders=len(self.gen.order_ids()),
            minimum=needed,
            dealpos=_calls_since(before, self.dealpos.calls.snapshot()),
            searches=sum(sum(searches.get(e, {}).values()) for e in SEARCHES),
            pages_needed=_pages_needed(self.tiktok, self.tiktok.windows),
            details=sum(searches.get(DETAIL, {}).values()),
        )


def _settle(rig: _Rig, workload: Workload, max_runs: int = 5) -> None:
    """With faults, run until the outbox is empty (left-over actions finish), then check."""
    db = Store.open(Path(rig.config.state.path))
    try:
        for _ in range(max_runs):
            box = db.outbox_counts(harness.SHOP)
            if box["pending"] + box["in_flight"] == 0:
                break
            workload.runs.append(rig.one_run())
            workload.settle_runs += 1
        items = db.open_attention(harness.SHOP)
        quarantined = {a["order_id"] for a in items if a["kind"] == "rejected"}
    finally:
        db.close()
    workload.mirror = compare_mirror(
        rig.tiktok, rig.dealpos, harness.SHOP, settle_always=True, quarantined=quarantined
    )


def run_workload(
    orders: int,
    runs: int,
    *,
    faults: FaultConfig | None,
    seed: int = 6,
    mode: TenantMode | None = None,
) -> Workload:
    """Drive `orders` orders through `runs` runs; return per-run figures and the mirror check."""
    harness.quiet_logs()
    clock = ManualClock()
    tiktok = WindowedTikTok(**harness.tiktok_options(clock))
    tiktok.start()
    dealpos = harness.start_dealpos(faults=faults, mode=mode)
    rng = random.Random(seed)
    workload = Workload()
    with harness.running(tiktok, dealpos), tempfile.TemporaryDirectory() as tmp:
        data = harness.settings(tiktok, dealpos, Path(tmp) / "sync.db", **_retry_settings(faults))
        rig = _Rig(
            clock,
            tiktok,
            dealpos,
            harness.generator(tiktok, clock, seed),
            harness.make_config(data),
            Minimum(settle_always=True),
        )
        for arriving in _arrivals(orders, runs):
            for _ in range(arriving):
                clock.advance(EVENT_SECONDS)
                rig.gen.new_order()
            _move_orders(rig.gen, clock, rng)
            workload.runs.append(rig.one_run())
        _settle(rig, workload)
    return workload


def _retry_settings(faults: FaultConfig | None) -> dict[str, Any]:
    """Every COMPLETED order gets paid at once (so all four kinds of call occur); quick retries."""
    values: dict[str, Any] = {"sync__settle_completed": "always"}
    if faults is not None:
        values |= {"retry__max_attempts": 8, "retry__max_backoff_seconds": 0.2}
        values |= {"dealpos__timeout_seconds": 2.0}
    return values
