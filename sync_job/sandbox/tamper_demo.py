"""`sync-job sandbox --tamper`: once the mirror has some invoices, edit DealPOS behind its back
(one edit per verify finding) and tell the person how to watch `sync-job verify` catch it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sync_job.sandbox.dealpos_sim import DealposSimulator
from sync_job.sandbox.invoices import DealposError, Invoice

WANTED = 4  # active, unpaid invoices the job made before the edits start
POLL_SECONDS = 2.0
UNKNOWN_REFERENCE = "999000000000000001"


def pick_victims(invoices: list[Invoice], prefix: str = "TT-") -> list[Invoice]:
    """The oldest active, unpaid invoices the job made (so their orders are done being pushed)."""
    return [
        i
        for i in invoices
        if i.status == "Active" and i.payment_status == "Unpaid" and i.number.startswith(prefix)
    ][:WANTED]


def tamper_like_a_person(dealpos: DealposSimulator, victims: list[Invoice]) -> list[str]:
    """One edit per finding kind; returns what was done, one line each."""
    erased, paid, repriced, copied = victims
    edits: list[tuple[str, dict[str, Any]]] = [
        ("missing", {"action": "delete", "number": erased.number}),
        ("state", {"action": "pay", "number": paid.number}),
        (
            "total",
            {
                "action": "amount",
                "number": repriced.number,
                "amount": str(repriced.total + 1000 * repriced.lines[0].quantity),
            },
        ),
        ("duplicate", {"action": "add", "reference": copied.reference}),
        ("unexpected", {"action": "add", "reference": UNKNOWN_REFERENCE}),
    ]
    done = []
    for kind, body in edits:
        try:
            invoice = dealpos.tamper(body)
        except DealposError as err:
            done.append(f"  {body['action']} failed: {err.message}")
            continue
        done.append(f"  {body['action']:<7} {invoice.number} (order {invoice.reference}) -> {kind}")
    return done


def start(
    dealpos: DealposSimulator, config_path: Path, stop: threading.Event, say: Callable[[str], None]
) -> threading.Thread:
    """Wait (in a thread) for enough invoices, tamper once, and say how to see verify catch it."""

    def run() -> None:
        while not stop.wait(POLL_SECONDS):
            victims = pick_victims(dealpos.invoices())
            if len(victims) == WANTED:
                lines = tamper_like_a_person(dealpos, victims)
                say(
                    "sandbox --tamper: DealPOS was edited by hand behind the job's back:\n"
                    + "\n".join(lines)
                    + f"\n  see verify catch it:  sync-job --config {config_path} verify"
                    + f"\n  and repair it:        sync-job --config {config_path} verify --repair"
                )
                return

    thread = threading.Thread(target=run, name="sandbox-tamper", daemon=True)
    thread.start()
    return thread
