"""The one retry policy of both APIs: only TransientError is retried, honouring Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
