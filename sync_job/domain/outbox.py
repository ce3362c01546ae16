"""The outbox's vocabulary, in one place: the states of a row and the outcomes of a push.

A row is `pending` (not sent, or certainly not applied), `in_flight` (its call left: until
looked up or confirmed, DealPOS may or may not have applied it; `in_doubt` says so), or
`quarantined` (DealPOS refused it; `sync-job retry` puts it back). Pushing one row ends `done`
(confirmed, row gone), `quarantined`, `left` (pending for the next run), or `config` (the
config is at fault: the shop's push stops).
"""

from __future__ import annotations

from typing import Final, Literal, get_args

OutboxState = Literal["pending", "in_flight", "quarantined"]
PushOutcome = Literal["done", "quarantined", "left", "config"]

PENDING: Final = "pending"
IN_FLIGHT: Final = "in_flight"
QUARANTINED: Final = "quarantined"
OUTBOX_STATES: tuple[OutboxState, ...] = get_args(OutboxState)
ACTIONABLE: tuple[OutboxState, ...] = (PENDING, IN_FLIGHT)  # what a drain picks up

DONE: Final = "done"
LEFT: Final = "left"
STOP: Final = "config"  # the config names an outlet/method/customer DealPOS lacks: stop


def outbox_state(text: str) -> OutboxState:
    """Read a stored state; anything else is a damaged row, said plainly."""
    for state in OUTBOX_STATES:
        if text == state:
            return state
    raise ValueError(f"unknown outbox state {text!r}")
