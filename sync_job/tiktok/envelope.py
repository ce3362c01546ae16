"""Classify every TikTok answer, or failure to get one, in one place.

`classify` either returns the envelope's `data` or raises the `sync_job.domain.errors` class that
tells the caller what to do: retry (`TransientError`), refresh the token (`TokenExpired`,
`TokenRevoked`), re-stamp
(`InvalidTimestamp`) or give up (`AuthError`, `PermanentError`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import structlog

from sync_job.domain.errors import (
    AuthError,
    InvalidTimestamp,
    OutcomeUnknown,
    PermanentError,
    RemoteError,
    TokenExpired,
    TokenRevoked,
    TransientError,
)
from sync_job.domain.jsonutil import loads
from sync_job.net.headers import parse_retry_after

CODE_OK = 0
CODE_TOKEN_EXPIRED = 105002
CODE_MISSING_SCOPE = 105005
CODE_BAD_SIGNATURE = 106001
CODE_RATE_LIMITED = 36009002
CODE_INTERNAL_ERROR = 36009003
CODE_CATCH_ALL = 36009004
CODE_GATEWAY_TIMEOUT = 36009007
CODE_IP_NOT_ALLOWED = 36009033

_TRANSIENT_CODES = frozenset({CODE_RATE_LIMITED, CODE_INTERNAL_ERROR, CODE_GATEWAY_TIMEOUT})
_BODY_HEAD_BYTES = 200
# URLs in requests' exception texts carry the query string, which holds app_secret on token calls.
_QUERY = re.compile(r"\?[^\s'\"]*")

_log = structlog.get_logger(__name__)

Scrub = Callable[[str], str]


@dataclass(frozen=True)
class _Answer:
    """The parts of a non-successful answer that every error message needs."""

    path: str
    status: int
    code: int | None
    message: str
    request_id: str
    retry_after: float | None

    def text(self, hint: str = "") -> str:
        """Describe the answer for an error message: code, message, request_id, HTTP status."""
        prefix = f"{hint}: " if hint else ""
        return (
            f"TikTok {self.path}: {prefix}code {self.code}: {self.message} "
            f"(request_id {self.request_id or '-'}, HTTP {self.status})"
        )


def classify(
    path: str,
    outcome: requests.Response | requests.RequestException,
    *,
    now: float,
    scrub: Scrub,
) -> dict[str, Any]:
    """Return a successful answer's `data`; raise a domain.errors class otherwise."""
    if isinstance(outcome, requests.RequestException):
        raise _logged(_from_exception(path, outcome, scrub), path=path)
    retry_after = parse_retry_after(outcome.headers.get("Retry-After"), now=now)
    envelope = _envelope(outcome.content)
    if envelope is None:
        raise _logged(_from_non_json(path, outcome, retry_after, scrub), path=path)
    answer = _Answer(
        path=path,
        status=outcome.status_code,
        code=envelope["code"],
        message=scrub(str(envelope.get("message") or "")),
        request_id=str(envelope.get("request_id") or ""),
        retry_after=retry_after,
    )
    if answer.code == CODE_OK and answer.status < 400:
        data = envelope.get("data")
        return data if isinstance(data, dict) else {}
    raise _logged(_from_code(answer), path=path, request_id=answer.request_id)


def _from_code(a: _Answer) -> RemoteError:
    """Map an error envelope to its class, judging by `code` first and HTTP status second."""
    fields: dict[str, Any] = {"status": a.status, "code": a.code}
    if a.code in _TRANSIENT_CODES:
        return TransientError(a.text(), retry_after=a.retry_after, **fields)
    if a.code == CODE_TOKEN_EXPIRED:
        return TokenExpired(a.text("access token expired"), **fields)
    if a.code == CODE_CATCH_ALL and "timestamp" in a.message.lower():
        return InvalidTimestamp(a.text("timestamp rejected (check the system clock)"), **fields)
    if a.code == CODE_CATCH_ALL and _about_access_token(a.message, a.status):
        return TokenRevoked(a.text("access token refused (revoked or replaced)"), **fields)
    if a.code == CODE_MISSING_SCOPE:
        hint = "the app lacks the API scope this call needs; grant it and re-authorize the shop"
        return AuthError(a.text(hint), **fields)
    if a.code == CODE_BAD_SIGNATURE:
        return PermanentError(a.text("signature rejected (a signing bug; not retried)"), **fields)
    if a.code == CODE_IP_NOT_ALLOWED:
        hint = (
            "this machine's IP address is not on the app's IP allow list; "
            "add it in the TikTok Shop Partner Center"
        )
        return AuthError(a.text(hint), **fields)
    if a.status >= 500 or a.status == 429:
        return TransientError(a.text(), retry_after=a.retry_after, **fields)
    return PermanentError(a.text(), **fields)


def _about_access_token(message: str, status: int) -> bool:
    """True when a 36009004 refuses the access token ("x-tts-access-token header is invalid")."""
    text = message.lower().replace("_", " ").replace("-", " ")
    return "access token" in text or (status == 401 and "token" in text)


def _from_non_json(
    path: str, response: requests.Response, retry_after: float | None, scrub: Scrub
) -> RemoteError:
    """Classify an answer that is not a TikTok envelope: retry it only from a 5xx, 429 or proxy."""
    head = scrub(response.content[:_BODY_HEAD_BYTES].decode("utf-8", "replace"))
    status = response.status_code
    text = f"TikTok {path}: HTTP {status} with a body that is not a TikTok envelope: {head!r}"
    if status >= 500 or status == 429:
        return TransientError(text, retry_after=retry_after, status=status, body_head=head)
    return PermanentError(text, status=status, body_head=head)


def _from_exception(path: str, exc: requests.RequestException, scrub: Scrub) -> RemoteError:
    """Classify a request that got no answer; the text never carries the URL's query string."""
    detail = scrub(_QUERY.sub("?[query elided]", f"{type(exc).__name__}: {exc}"))[:300]
    text = f"TikTok {path}: no answer: {detail}"
    if isinstance(exc, requests.ConnectTimeout):
        return TransientError(text)
    if isinstance(exc, requests.Timeout):
        # The request was sent and may have been processed: the caller must not assume either way.
        return OutcomeUnknown(text)
    if isinstance(
        exc,
        requests.ConnectionError
        | requests.exceptions.ChunkedEncodingError
        | requests.exceptions.ContentDecodingError,
    ):
        return TransientError(text)
    return PermanentError(text)


def _envelope(content: bytes) -> dict[str, Any] | None:
    """Parse a TikTok envelope (money as Decimal); None when the body is not one."""
    try:
        parsed = loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(parsed, dict):
        return None
    code = parsed.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        return None
    return parsed


def _logged(error: RemoteError, **context: Any) -> RemoteError:
    """Log an error as it is classified (with its request_id) and hand it back for raising."""
    _log.warning(
        "tiktok call failed",
        error=type(error).__name__,
        status=error.status,
        code=error.code,
        detail=str(error),
        **context,
    )
    return error
