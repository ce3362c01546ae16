"""The one retry policy: its exact attempts and waits, Retry-After honoured."""

from __future__ import annotations

import pytest
from tenacity import Retrying

from sync_job.domain.errors import PermanentError, TransientError
from sync_job.net.retrying import transient_retrying


class Flaky:
    """Fails with the given errors, in order, then returns 'ok'; counts its calls."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self, value: str) -> str:
        """One try."""
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return f"ok {value}"


def policy(slept: list[float], attempts: int = 3) -> Retrying:
    """The shared policy with a recording sleep."""
    return transient_retrying(max_attempts=attempts, max_backoff=60, sleep=slept.append)


def test_first_success_is_one_call_and_no_wait() -> None:
    """A call that succeeds at once is made once."""
    slept: list[float] = []
    fn = Flaky()
    assert policy(slept)(fn, "a") == "ok a"
    assert (fn.calls, slept) == (1, [])


def test_retries_follow_the_policy_after_a_first_failure() -> None:
    """Two transient failures then success: three calls, two waits honouring Retry-After."""
    slept: list[float] = []
    fn = Flaky(TransientError("busy", retry_after=7), TransientError("busy"))
    assert policy(slept)(fn, "b") == "ok b"
    assert fn.calls == 3 and len(slept) == 2 and slept[0] >= 7


@pytest.mark.parametrize("attempts", [1, 3])
def test_gives_up_after_max_attempts_with_the_last_error(attempts: int) -> None:
    """The total number of calls is max_attempts, the first try included; the last error wins."""
    slept: list[float] = []
    errors = [TransientError(f"try {n}") for n in range(1, 6)]
    fn = Flaky(*errors)
    with pytest.raises(TransientError, match=f"try {attempts}"):
        policy(slept, attempts)(fn, "c")
    assert fn.calls == attempts and len(slept) == attempts - 1


def test_other_errors_are_never_retried() -> None:
    """A permanent error leaves at once, on the first try or after a transient one."""
    slept: list[float] = []
    fn = Flaky(TransientError("busy"), PermanentError("refused"))
    with pytest.raises(PermanentError):
        policy(slept)(fn, "d")
    assert fn.calls == 2 and len(slept) == 1
