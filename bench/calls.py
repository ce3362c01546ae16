"""Figure 1, DealPOS calls ÷ the theoretical minimum (flow.md §3), with and without faults.

The minimum is recomputed at every run from the simulator's orders: for each order, the actions
`flow.plan_actions` needs from what DealPOS had after the previous run to what the order calls
for now. Calls are counted by the DealPOS simulator, not by the client.
"""

from __future__ import annotations

import functools
from collections import Counter

from bench.report import Line, ratio
from bench.workload import Workload, run_workload
from sync_job.sandbox.faults import FaultConfig
from sync_job.sandbox.invoices import TenantMode

TOKEN = "POST /api/v3/Token/OAuth2"
LOOKUP = "GET /api/v3/Invoice/Detail"
WRITES = {
    "POST /api/v3/Invoice": "create",
    "POST /api/v3/OutboundLogistic": "send",
    "POST /api/v3/Payment/Invoice/AddPaymentFull": "pay",
    "DELETE /api/v3/Invoice": "delete",
}
# Outcomes that mean the call was applied (a lost answer was applied, only the answer vanished).
APPLIED = ("200", "lost_response")
# Outcomes that force the client to repeat the call.
RETRIED = ("429", "500", "dropped")
FAULTS = FaultConfig(server_error=0.03, rate_limited=0.01, dropped=0.02, lost_response=0.02, seed=3)


def sizes(quick: bool) -> tuple[int, int]:
    """(orders, runs) of the workload."""
    return (200, 5) if quick else (1200, 10)


@functools.cache
def fault_free(quick: bool) -> Workload:
    """The fault-free workload (shared with the paging figure)."""
    return run_workload(*sizes(quick), faults=None)


def _kinds(calls: Counter[tuple[str, str]], outcomes: tuple[str, ...]) -> Counter[str]:
    return Counter({kind: sum(calls[(e, o)] for o in outcomes) for e, kind in WRITES.items()})


def _by_kind(counts: Counter[str]) -> str:
    return ", ".join(f"{k} {counts[k]}" for k in ("create", "send", "pay", "delete"))


def _fault_free_lines(work: Workload, quick: bool) -> list[Line]:
    calls = work.dealpos_calls()
    minimum = sum(work.minimum.values())
    tokens = sum(n for (e, _), n in calls.items() if e == TOKEN)
    spent = sum(calls.values()) - tokens
    value = spent / minimum
    orders, runs = sizes(quick)
    return [
        Line(
            "dealpos_calls_per_minimum",
            ratio(value),
            f"target exactly 1.00; {spent} calls for a minimum of {minimum}, "
            f"{orders} orders over {runs} runs, no faults",
            spent == minimum,
        ),
        Line("dealpos_calls_by_kind", _by_kind(_kinds(calls, ("200",))), "made"),
        Line("dealpos_minimum_by_kind", _by_kind(work.minimum), "needed"),
        Line(
            "dealpos_lookups",
            str(sum(calls[(LOOKUP, o)] for o in ("200", "404"))),
            "GET /Invoice/Detail; 0 expected without faults",
        ),
        Line("dealpos_token_calls", str(tokens), f"own line, not in the ratio; {runs} runs"),
        Line("mirror_check", _mirror(work), "DealPOS against the desired state of every order"),
    ]


def _mirror(work: Workload) -> str:
    report = work.mirror
    if report is None:
        return "not checked"
    verdict = ("ok: " if report.ok else "WRONG: ") + report.summary()
    if report.wrong:
        verdict += f" [{'; '.join(report.wrong[:3])}]"
    if report.paid_by_past_return:
        verdict += " (paid by a withdrawn return: by design, a payment is never undone)"
    return verdict


def _faulted_lines(work: Workload) -> list[Line]:
    calls = work.dealpos_calls()
    minimum = sum(work.minimum.values())
    applied = _kinds(calls, APPLIED)
    retried = Counter({o: sum(n for (e, oc), n in calls.items() if oc == o) for o in RETRIED})
    lost = sum(calls[(e, "lost_response")] for e in WRITES)
    lookups = sum(n for (e, _), n in calls.items() if e == LOOKUP)
    shares = "3% 500, 1% 429, 2% dropped connections, 2% lost answers to writes"
    return [
        Line(
            "faulted_writes_per_minimum",
            ratio(sum(applied.values()) / minimum),
            f"writes DealPOS applied ÷ minimum with {shares}; target 1.00",
            sum(applied.values()) == minimum,
        ),
        Line(
            "fault_retries",
            str(sum(retried.values())),
            "calls repeated because of an injected fault: "
            + ", ".join(f"{o} {n}" for o, n in retried.items()),
        ),
        Line(
            "fault_lookups",
            str(lookups),
            f"GET /Invoice/Detail after {lost} lost answers and the dropped writes",
        ),
        Line("faulted_calls_total", str(sum(calls.values())), f"minimum {minimum}, tokens incl."),
        Line("faulted_settle_runs", str(work.settle_runs), "extra runs to drain left-overs"),
        Line("faulted_mirror_check", _mirror(work), "no duplicate, nothing lost"),
    ]


def _renumbering_line(quick: bool) -> Line:
    """The fault-free figure on a tenant that gives invoices its own Numbers."""
    work = run_workload(*sizes(quick), faults=None, mode=TenantMode(renumbering=True))
    calls = work.dealpos_calls()
    minimum = sum(work.minimum.values())
    spent = sum(calls.values()) - sum(n for (e, _), n in calls.items() if e == TOKEN)
    return Line(
        "dealpos_calls_per_minimum_renumbering",
        ratio(spent / minimum),
        f"target exactly 1.00 on a renumbering tenant (INV/ numbers); {spent} calls for a "
        f"minimum of {minimum}, no faults; {_mirror(work)}",
        spent == minimum and work.mirror is not None and work.mirror.ok,
    )


def run(quick: bool) -> list[Line]:
    """Both variants: fault-free (the figure) and with injected faults (retries on own lines),
    and the fault-free figure again on a renumbering tenant."""
    lines = _fault_free_lines(fault_free(quick), quick)
    faulted = run_workload(*sizes(quick), faults=FAULTS)
    return [*lines, _renumbering_line(quick), *_faulted_lines(faulted)]
