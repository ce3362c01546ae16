"""The one retry policy of both APIs: only TransientError is retried, honouring Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from sync_job.domain.errors import TransientError


@dataclass(frozen=True)
class RetryConfig:
    """How transient failures are retried within a run (both APIs): `[retry]` in the config."""

    max_attempts: int = 5
    max_backoff_seconds: float = 60.0


T = TypeVar("T")


def retry_wait(max_backoff: float) -> Callable[[RetryCallState], float]:
    """max(Retry-After, exponential backoff with jitter), capped at max_backoff.

    The cap also bounds a server's Retry-After: DealPOS's pacer holds calls for the full hint
    anyway, and a hung TikTok hint must not stall a run for longer than the operator allows.
    """
    backoff = wait_exponential_jitter(initial=1, max=max_backoff, jitter=1)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        hint = error.retry_after if isinstance(error, TransientError) else None
        return float(min(max(hint or 0.0, backoff(state)), max_backoff))

    return wait


def transient_retrying(
    *,
    max_attempts: int,
    max_backoff: float,
    sleep: Callable[[float], None],
    before_sleep: Callable[[RetryCallState], None] | None = None,
) -> Retrying:
    """A tenacity policy retrying TransientError up to max_attempts tries, re-raising the last."""
    return Retrying(
        stop=stop_after_attempt(max_attempts),
        wait=retry_wait(max_backoff),
        retry=retry_if_exception_type(TransientError),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )


def call_retrying(policy: Retrying, fn: Callable[..., T], *args: Any) -> T:
    """`policy(fn, *args)`, skipping tenacity's bookkeeping when the first try succeeds.

    Most calls succeed at once, and tenacity's per-call machinery costs more than the rest of
    the pusher's own work on a call. A first try that fails with a retryable error is replayed
    to the policy as its attempt 1 (without calling `fn` again), so the attempts, waits, hooks
    and the error finally raised are exactly those of the policy alone.
    """
    try:
        return fn(*args)
    except TransientError as exc:  # the only class transient_retrying retries
        first: TransientError | None = exc

    def attempt(*call_args: Any) -> T:
        nonlocal first
        if first is not None:
            replayed, first = first, None
            raise replayed
        return fn(*call_args)

    return policy(attempt, *args)
