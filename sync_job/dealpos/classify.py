"""The one place where a DealPOS call's outcome becomes a result or an error class.

Callers (the outbox pusher) decide what to do by class alone: retry `TransientError`, look the
record up before repeating after `OutcomeUnknown`, quarantine `PermanentError`, stop on `AuthError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from sync_job.dealpos import assumed
from sync_job.domain import jsonutil
from sync_job.domain.errors import (
    AuthError,
    Conflict,
    NotFound,
    OutcomeUnknown,
    PermanentError,
    RemoteError,
    TransientError,
)
from sync_job.domain.redact import scrub
from sync_job.net.headers import header, parse_retry_after

__all__ = ["BODY_HEAD_BYTES", "Endpoint", "Outcome", "classify", "retry_after_hint"]

BODY_HEAD_BYTES = 200
# Gateway errors: a proxy passed the request on and lost the answer, so DealPOS may have applied it.
_GATEWAY_LOST_ANSWER = frozenset({502, 504})
# Requests that requests itself refuses to send: a configuration mistake, not a passing fault.
_NEVER_SENT_BAD_REQUEST = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
)

Outcome = requests.Response | requests.RequestException


@dataclass(frozen=True)
class Endpoint:
    """One DealPOS operation: its route and what a successful answer must look like."""

    name: str
    method: str
    path: str
    # The 2xx body (parsed JSON, None when empty, the text when not JSON) has the expected shape.
    accepts: Callable[[Any], bool]
    repeatable: bool = False  # repeating it can do no harm (reads, token): no unknown outcomes
    creates: bool = False  # a 400 saying "duplicate" means the record exists (Conflict)

    @property
    def label(self) -> str:
        """Name the operation for messages, e.g. `create_invoice (POST /api/v3/Invoice)`."""
        return f"{self.name} ({self.method} {self.path})"


def classify(endpoint: Endpoint, outcome: Outcome, *, secrets: Iterable[str] = ()) -> Any:
    """Return the parsed body of a successful answer, or raise the error class the outcome is."""
    fail = _Failer(endpoint, tuple(s for s in secrets if s))
    if isinstance(outcome, requests.RequestException):
        fail.from_exception(outcome)
    status = outcome.status_code
    parsed, body = _parse(outcome.content)
    if 200 <= status < 300:
        # A body that is not JSON is offered as text: DealPOS answers some calls in plain words.
        answer = body if parsed else outcome.content.decode("utf-8", errors="replace")
        if endpoint.accepts(answer):
            return answer
        fail.unexpected_answer(outcome)
    fail.from_status(outcome, assumed.error_message(body) if parsed else None)


def retry_after_hint(response: requests.Response | None) -> float | None:
    """Seconds a 429 asks us to wait: Retry-After header, else a number in the body's message."""
    if response is None or response.status_code != 429:
        return None
    seconds = parse_retry_after(header(response.headers, "Retry-After"), now=time.time())
    if seconds is not None:
        return seconds
    parsed, body = _parse(response.content)
    return assumed.retry_after_from_message(assumed.error_message(body)) if parsed else None


def _parse(content: bytes) -> tuple[bool, Any]:
    """Parse a body: (True, None) when empty, (True, value) for JSON, (False, None) otherwise."""
    if not content.strip():
        return True, None
    try:
        return True, jsonutil.loads(content)
    except (ValueError, RecursionError):
        return False, None


def _may_have_been_sent(exc: requests.RequestException) -> bool:
    """Tell whether the request may have reached DealPOS before the failure."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
        return False
    if isinstance(exc, requests.exceptions.ProxyError):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        # requests wraps "could not connect" as MaxRetryError(reason=ConnectTimeoutError or its
        # subclass NewConnectionError); a reset or abort after sending comes as a ProtocolError.
        never_connected = isinstance(reason, MaxRetryError) and isinstance(
            reason.reason, ConnectTimeoutError
        )
        return not never_connected
    return True


class _Failer:
    """Builds and raises the error for one outcome, with secrets scrubbed from every text."""

    def __init__(self, endpoint: Endpoint, secrets: tuple[str, ...]) -> None:
        self.endpoint = endpoint
        self.secrets = secrets

    def from_exception(self, exc: requests.RequestException) -> NoReturn:
        """Raise for a call that produced no answer."""
        detail = f"{type(exc).__name__}: {str(exc)[:BODY_HEAD_BYTES]}"
        if isinstance(exc, _NEVER_SENT_BAD_REQUEST):
            self._raise(PermanentError, None, detail)
        if not self.endpoint.repeatable and _may_have_been_sent(exc):
            self._raise(OutcomeUnknown, None, f"{detail} (the request may have been applied)")
        self._raise(TransientError, None, detail)

    def unexpected_answer(self, response: requests.Response) -> NoReturn:
        """Raise for a 2xx answer that is not what this endpoint answers."""
        head = _head(response.content)
        detail = "answer is not the expected JSON shape"
        if self.endpoint.repeatable:
            self._raise(TransientError, response.status_code, detail, head)
        detail += " (the request may have been applied)"
        self._raise(OutcomeUnknown, response.status_code, detail, head)

    def from_status(self, response: requests.Response, message: str | None) -> NoReturn:
        """Raise for a non-2xx answer."""
        status = response.status_code
        head = "" if message else _head(response.content)
        detail = message or "no message"
        if status == 401:
            self._raise(AuthError, status, detail, head)
        if status == 429:
            retry_after = retry_after_hint(response)
            self._raise(TransientError, status, detail, head, retry_after=retry_after)
        if status in _GATEWAY_LOST_ANSWER and not self.endpoint.repeatable:
            self._raise(
                OutcomeUnknown, status, f"{detail} (the request may have been applied)", head
            )
        if status == 408 or status >= 500:
            self._raise(TransientError, status, detail, head)
        self._raise(self._client_error_class(status, message), status, detail, head)

    def _client_error_class(self, status: int, message: str | None) -> type[PermanentError]:
        if status == 404:
            return NotFound
        if status == 409 or (self.endpoint.creates and assumed.is_duplicate(status, message)):
            return Conflict
        return PermanentError

    def _raise(
        self,
        cls: type[RemoteError],
        status: int | None,
        detail: str,
        head: str = "",
        **extra: Any,
    ) -> NoReturn:
        where = f"HTTP {status}" if status is not None else "no answer"
        text = f"DealPOS {self.endpoint.label}: {where}: {detail}"
        if head:
            text += f"; body starts: {head!r}"
        raise cls(self._scrub(text), status=status, body_head=self._scrub(head), **extra)

    def _scrub(self, text: str) -> str:
        return scrub(text, self.secrets)


def _head(content: bytes) -> str:
    return content[:BODY_HEAD_BYTES].decode("utf-8", errors="replace")
