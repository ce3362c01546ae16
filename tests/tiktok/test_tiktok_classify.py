"""The one place that turns a TikTok answer (or its absence) into success or an error class."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from sync_job.domain.errors import (
    AuthError,
    InvalidTimestamp,
    OutcomeUnknown,
    PermanentError,
    RemoteError,
    TokenExpired,
    TransientError,
)
from sync_job.net.headers import parse_retry_after
from sync_job.tiktok.envelope import classify

NOW = 1_700_000_000.0
SECRET = "super-secret-value"


def _scrub(text: str) -> str:
    return text.replace(SECRET, "***")


def _response(status: int, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers.update(headers or {})
    return response


def _envelope(code: int, message: str = "msg", data: Any = None) -> bytes:
    return json.dumps(
        {"code": code, "message": message, "request_id": "rid-42", "data": data}
    ).encode()


def _classify(response: requests.Response | requests.RequestException) -> dict[str, Any]:
    return classify("/order/202309/orders/search", response, now=NOW, scrub=_scrub)


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        (429, 36009002, "Too many requests", TransientError),
        (200, 36009003, "Internal error", TransientError),
        (200, 36009007, "Timeout", TransientError),
        (500, 12345, "anything", TransientError),
        (503, 0, "odd but a 5xx", TransientError),
        (401, 105002, "Access token is expired", TokenExpired),
        (200, 36009004, "Invalid timestamp", InvalidTimestamp),
        (200, 36009004, "The timestamp parameter has expired", InvalidTimestamp),
        (200, 36009004, "Invalid app_key", PermanentError),
        (200, 36009004, "Missing sign", PermanentError),
        (403, 105005, "Missing scope", AuthError),
        (200, 106001, "Invalid sign", PermanentError),
        (500, 106001, "Invalid sign", PermanentError),
        (403, 36009033, "IP not in allow list", AuthError),
        (400, 98765, "Some validation problem", PermanentError),
        (200, 98765, "Unknown code on HTTP 200", PermanentError),
    ],
)
def test_error_envelopes_map_to_classes(
    status: int, code: int, message: str, expected: type[RemoteError]
) -> None:
    """Each (HTTP status, code, message) lands in exactly the expected error class."""
    with pytest.raises(RemoteError) as caught:
        _classify(_response(status, _envelope(code, message)))
    assert type(caught.value) is expected
    assert caught.value.code == code
    assert caught.value.status == status


def test_success_returns_data_with_decimals() -> None:
    """Code 0 returns `data`, with JSON fractions parsed as Decimal."""
    body = b'{"code":0,"message":"Success","request_id":"r","data":{"amount":12.10,"n":7}}'
    data = _classify(_response(200, body))
    assert str(data["amount"]) == "12.10"
    assert data["n"] == 7


def test_success_with_null_data_is_empty() -> None:
    """A success whose data is null reads as an empty object."""
    assert _classify(_response(200, _envelope(0, data=None))) == {}


def test_error_message_names_code_message_and_request_id() -> None:
    """Error texts carry the code, TikTok's message and the request_id."""
    with pytest.raises(PermanentError, match=r"code 106001: Invalid sign \(request_id rid-42"):
        _classify(_response(200, _envelope(106001, "Invalid sign")))


def test_ip_allow_list_error_says_so_clearly() -> None:
    """The IP allow-list error tells the reader what to fix."""
    with pytest.raises(AuthError, match="not on the app's IP allow list"):
        _classify(_response(403, _envelope(36009033, "forbidden")))


def test_rate_limit_carries_retry_after_seconds() -> None:
    """A 429 keeps the Retry-After seconds for the retry policy."""
    response = _response(429, _envelope(36009002), {"Retry-After": "7"})
    with pytest.raises(TransientError) as caught:
        _classify(response)
    assert caught.value.retry_after == 7.0


def test_retry_after_as_http_date() -> None:
    """A Retry-After HTTP date becomes seconds from now."""
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:40 GMT", now=NOW) == 20.0
    assert parse_retry_after("garbage", now=NOW) is None
    assert parse_retry_after("-3", now=NOW) == 0.0


@pytest.mark.parametrize(("status", "expected"), [(502, TransientError), (404, PermanentError)])
def test_non_json_body(status: int, expected: type[RemoteError]) -> None:
    """A non-envelope body is retried from a 5xx proxy, else fatal; errors keep its head."""
    body = b"<html>" + b"x" * 500 + b"</html>"
    with pytest.raises(RemoteError) as caught:
        _classify(_response(status, body))
    assert type(caught.value) is expected
    assert caught.value.body_head == ("<html>" + "x" * 194)
    assert "<html>xxx" in str(caught.value)


def test_json_that_is_not_an_envelope_counts_as_non_json() -> None:
    """JSON without an integer `code` is not trusted as an envelope."""
    with pytest.raises(TransientError):
        _classify(_response(503, b'{"error": "upstream"}'))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (requests.ConnectTimeout("connect timed out"), TransientError),
        (requests.ReadTimeout("read timed out"), OutcomeUnknown),
        (requests.ConnectionError("reset by peer"), TransientError),
        (requests.exceptions.ChunkedEncodingError("truncated"), TransientError),
        (requests.exceptions.InvalidURL("bad url"), PermanentError),
    ],
)
def test_request_exceptions(error: requests.RequestException, expected: type[RemoteError]) -> None:
    """Connection failures and timeouts are transient; a read timeout's outcome is unknown."""
    with pytest.raises(RemoteError) as caught:
        _classify(error)
    assert type(caught.value) is expected


def test_exception_text_loses_query_string_and_secrets() -> None:
    """An exception's URL query (app_secret on token calls) never reaches the error text."""
    error = requests.ConnectionError(
        f"Max retries exceeded with url: /api/v2/token/refresh?app_secret={SECRET}&x=1 (refused)"
    )
    with pytest.raises(TransientError) as caught:
        _classify(error)
    assert SECRET not in str(caught.value)
    assert "refused" in str(caught.value)


def test_server_echoed_secrets_are_scrubbed() -> None:
    """A secret echoed in TikTok's message or a body head is blanked out."""
    with pytest.raises(PermanentError) as caught:
        _classify(_response(200, _envelope(98765, f"bad token {SECRET}")))
    assert SECRET not in str(caught.value)
    with pytest.raises(PermanentError) as caught:
        _classify(_response(400, f"oops {SECRET}".encode()))
    assert SECRET not in str(caught.value)
    assert SECRET not in caught.value.body_head
