"""One HTTP request with a total deadline and a cap on the (decompressed) body size.

requests' `timeout` bounds each socket read, not the request: a server dripping one byte a
second keeps a 5 s timeout busy for minutes, and a small gzip body can expand to hundreds of
megabytes in memory. Both API clients send through `request_bounded`: the body is streamed in
small pieces, each piece checked against a monotonic deadline and the running size against the
cap. Either limit raises a requests exception, so the clients classify it like other failures
(a deadline like a read timeout: the request may have been applied).
"""

from __future__ import annotations

import time
from typing import Any

import requests
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError, SSLError

__all__ = ["MAX_BODY_BYTES", "BodyTooLarge", "DeadlineExceeded", "request_bounded"]

MAX_BODY_BYTES = 32 * 1024 * 1024
# Small pieces: a gzip piece this size decompresses to at most a few MiB before the cap is checked.
_PIECE = 16 * 1024


class DeadlineExceeded(requests.exceptions.ReadTimeout):
    """The whole request (connect, headers, body) took longer than its deadline."""


class BodyTooLarge(requests.exceptions.ContentDecodingError):
    """The (decompressed) answer is larger than the cap."""


def _deadline_of(timeout: float | tuple[float, float]) -> float:
    """The total time a request may take: the read timeout (the larger figure)."""
    return max(timeout) if isinstance(timeout, tuple) else float(timeout)


def request_bounded(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: float | tuple[float, float],
    max_bytes: int = MAX_BODY_BYTES,
    **kwargs: Any,
) -> requests.Response:
    """`session.request(...)` done within `timeout` seconds in all, body at most `max_bytes`."""
    deadline = time.monotonic() + _deadline_of(timeout)
    response = session.request(method, url, timeout=timeout, stream=True, **kwargs)
    try:
        body = _read_body(response, deadline, max_bytes)
    except BaseException:
        response.close()
        raise
    response._content = body  # what `.content` returns from now on
    response._content_consumed = True  # type: ignore[attr-defined]
    response.close()  # the body is fully read: the connection goes back to the pool
    return response


def _read_body(response: requests.Response, deadline: float, max_bytes: int) -> bytes:
    """Read and decode the body piece by piece within the deadline and the size cap."""
    raw = response.raw
    body = bytearray()
    while True:
        if time.monotonic() > deadline:
            raise DeadlineExceeded(
                f"no complete answer within the deadline ({len(body)} bytes read)"
            )
        try:
            piece = raw.read1(_PIECE, decode_content=True)
        except ProtocolError as exc:  # wrapped as requests' own body reading wraps them
            raise requests.exceptions.ChunkedEncodingError(exc) from None
        except DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from None
        except ReadTimeoutError as exc:
            raise requests.exceptions.ConnectionError(exc) from None
        except SSLError as exc:
            raise requests.exceptions.SSLError(exc) from None
        if not piece:
            return bytes(body)
        body += piece
        if len(body) > max_bytes:
            raise BodyTooLarge(f"the answer is larger than {max_bytes} bytes (decompressed)")
