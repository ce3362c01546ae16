"""The one classifier: every DealPOS outcome maps to a result or exactly one error class."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from sync_job.dealpos import assumed
from sync_job.dealpos.classify import Endpoint, classify
from sync_job.dealpos.client import _CREATE, _DELETE, _FIND, _PAY, _SEND, _TOKEN
from sync_job.domain import jsonutil
from sync_job.domain.errors import (
    AuthError,
    Conflict,
    NotFound,
    OutcomeUnknown,
    PermanentError,
    TransientError,
)

LEGACY = {"PaymentStatus": "Unpaid", "FulfillmentStatus": "Unsent"}
HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def answer(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> requests.Response:
    """A requests.Response as DealPOS (or a proxy in front of it) would send it."""
    response = requests.Response()
    response.status_code = status
    if isinstance(body, bytes):
        response._content = body
    else:
        response._content = b"" if body is None else jsonutil.dumps(body).encode()
    response.headers.update(headers or {})
    return response


def raises_exactly(cls: type[BaseException], endpoint: Endpoint, outcome: Any) -> BaseException:
    """Classify and check that exactly `cls` (not a subclass) was raised."""
    with pytest.raises(cls) as caught:
        classify(endpoint, outcome)
    assert type(caught.value) is cls
    return caught.value


@pytest.mark.parametrize(
    ("endpoint", "status", "body", "expected"),
    [
        (_CREATE, 400, {"Message": "Variant code 'XX-1' not found"}, PermanentError),
        (_CREATE, 400, {"Message": "Outlet 'Nowhere' not found"}, PermanentError),
        (_CREATE, 400, {"Message": "Invoice number TT-1 already exists"}, Conflict),
        (_CREATE, 400, {"Message": "Duplicate invoice number"}, Conflict),
        (_SEND, 400, {"Message": "Duplicate fulfillment"}, PermanentError),
        (_SEND, 400, {"Message": "Invoice is already Sent"}, PermanentError),
        (_CREATE, 409, {"Message": "Number in use"}, Conflict),
        (_PAY, 409, {"Message": "conflict"}, Conflict),
        (_CREATE, 403, {"Message": "Forbidden"}, PermanentError),
        (_CREATE, 422, b"not json at all", PermanentError),
        (_FIND, 404, {"Message": "Invoice not found"}, NotFound),
        (_DELETE, 404, None, NotFound),
        (_CREATE, 401, {"Message": "Unauthorized"}, AuthError),
        (_FIND, 401, None, AuthError),
        (_CREATE, 429, {"Message": "Too many requests"}, TransientError),
        (_FIND, 408, None, TransientError),
        (_CREATE, 500, {"Message": "Object reference not set"}, TransientError),
        (_CREATE, 503, HTML_502, TransientError),
        (_FIND, 502, HTML_502, TransientError),
        (_FIND, 504, None, TransientError),
        (_CREATE, 502, HTML_502, OutcomeUnknown),
        (_DELETE, 504, None, OutcomeUnknown),
        (_CREATE, 200, HTML_502, OutcomeUnknown),
        (_CREATE, 200, {"Number": "TT-1"}, OutcomeUnknown),
        (_CREATE, 201, ["ID"], OutcomeUnknown),
        (_SEND, 200, None, OutcomeUnknown),
        (_PAY, 200, b"OK", OutcomeUnknown),
        (_DELETE, 200, b"<html>ok</html>", OutcomeUnknown),
        (_FIND, 200, b"<html>login</html>", TransientError),
        (_FIND, 200, [], TransientError),
        (_TOKEN, 200, {"token_type": "Bearer"}, TransientError),
        (_CREATE, 302, None, PermanentError),
        # Only the documented success shapes count as done (dealpos.md, updated 2026-11-30):
        (_CREATE, 201, {"ID": "6f1c"}, OutcomeUnknown),
        (_PAY, 200, {"Message": "Invoice is locked by another user"}, OutcomeUnknown),
        (_SEND, 200, {"Message": "Invoice is locked by another user"}, OutcomeUnknown),
        (_PAY, 200, {"ID": "6f1c"}, OutcomeUnknown),
        (_DELETE, 200, None, OutcomeUnknown),
        (_DELETE, 204, None, OutcomeUnknown),
        (_DELETE, 200, {"Message": "Invoice is locked by another user"}, OutcomeUnknown),
        # A lookup without payment and delivery fields is a bad body, never "Unsent, Unpaid":
        (_FIND, 200, {"Number": "TT-1", "Status": "Cancelled"}, TransientError),
        (_FIND, 200, {"ID": "6f1c", "Payment": "Maybe", "Delivery": "Sent"}, TransientError),
    ],
)
def test_status_and_body_map_to_one_error_class(
    endpoint: Endpoint, status: int, body: Any, expected: type[BaseException]
) -> None:
    """Each (endpoint, status, body) maps to exactly the error class the pusher acts on."""
    raises_exactly(expected, endpoint, answer(status, body))


@pytest.mark.parametrize(
    ("endpoint", "status", "body"),
    [
        (_CREATE, 200, {"ID": "6f1c", "Number": "TT-1"}),
        (_CREATE, 201, {"ID": "6f1c", "Number": "18.10.00009"}),
        (_SEND, 200, {"ID": "6f1c", "OrderFulfillmentState": "Sent"}),
        (_PAY, 200, {"Message": "Invoice 18.10.00009 has successfully completed a Paid"}),
        (_DELETE, 200, "Invoice has been delete!{}"),
        (_FIND, 200, {"Number": "TT-1", "Status": "Cancelled", **LEGACY}),
        (_FIND, 200, {"ID": "6f1c", "Payment": "Paid", "Delivery": "Returned"}),
        (_TOKEN, 200, {"access_token": "t", "expires_in": 3600}),
    ],
)
def test_expected_answers_are_returned_parsed(endpoint: Endpoint, status: int, body: Any) -> None:
    """A 2xx with the endpoint's expected shape is a success and returns the parsed body."""
    assert classify(endpoint, answer(status, body)) == body


def test_a_plain_text_delete_answer_is_the_documented_one() -> None:
    """DealPOS may answer the delete as bare text, not JSON: still a success."""
    assert classify(_DELETE, answer(200, b"Invoice has been delete!{}")) is not None


def new_connection_error() -> requests.ConnectionError:
    """What requests raises when the TCP connection could not be made."""
    reason = NewConnectionError(None, "Failed to establish a new connection: refused")  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, "/api/v3/Invoice", reason))  # type: ignore[arg-type]


def reset_after_sending() -> requests.ConnectionError:
    """What requests raises when the server drops the connection after the request went out."""
    cause = ProtocolError("Connection aborted.", ConnectionResetError(104, "reset by peer"))
    return requests.ConnectionError(cause)


@pytest.mark.parametrize(
    ("endpoint", "exc", "expected"),
    [
        (_CREATE, requests.exceptions.ConnectTimeout("connect timed out"), TransientError),
        (_CREATE, new_connection_error(), TransientError),
        (_CREATE, requests.exceptions.SSLError("handshake failed"), TransientError),
        (_CREATE, requests.exceptions.ReadTimeout("read timed out"), OutcomeUnknown),
        (_SEND, reset_after_sending(), OutcomeUnknown),
        (_PAY, requests.exceptions.ChunkedEncodingError("broken body"), OutcomeUnknown),
        (_DELETE, requests.exceptions.ReadTimeout("read timed out"), OutcomeUnknown),
        (_FIND, requests.exceptions.ReadTimeout("read timed out"), TransientError),
        (_FIND, reset_after_sending(), TransientError),
        (_TOKEN, requests.exceptions.ReadTimeout("read timed out"), TransientError),
        (_FIND, requests.exceptions.MissingSchema("no scheme"), PermanentError),
    ],
)
def test_failures_without_an_answer(
    endpoint: Endpoint, exc: requests.RequestException, expected: type[BaseException]
) -> None:
    """No answer: never-sent is transient; maybe-applied writes are unknown; reads are transient."""
    error = raises_exactly(expected, endpoint, exc)
    assert "no answer" in str(error)


def test_message_names_status_and_dealpos_message() -> None:
    """An error's text holds the HTTP status, the operation and DealPOS's own message."""
    error = raises_exactly(
        PermanentError, _CREATE, answer(400, {"Message": "Variant code 'XX-1' not found"})
    )
    assert "HTTP 400" in str(error)
    assert "Variant code 'XX-1' not found" in str(error)
    assert "create_invoice" in str(error)
    assert isinstance(error, PermanentError) and error.status == 400


def test_non_json_error_body_head_is_kept() -> None:
    """A non-JSON error body's first ~200 bytes go into the message and `body_head`."""
    page = b"<html>" + b"x" * 500 + b"</html>"
    error = raises_exactly(TransientError, _FIND, answer(502, page))
    assert isinstance(error, TransientError)
    assert error.body_head == page[:200].decode()
    assert "<html>xxxx" in str(error)
    assert "x" * 300 not in str(error)


def test_429_carries_retry_after_from_header() -> None:
    """A 429's Retry-After header becomes the error's retry_after."""
    error = raises_exactly(TransientError, _CREATE, answer(429, None, {"Retry-After": "17"}))
    assert isinstance(error, TransientError) and error.retry_after == 17.0


def test_429_carries_retry_after_from_body_message() -> None:
    """Without a header, a number of seconds in the 429 body's Message becomes retry_after."""
    body = {"Message": "API calls quota exceeded! Try again in 42 seconds."}
    error = raises_exactly(TransientError, _CREATE, answer(429, body))
    assert isinstance(error, TransientError) and error.retry_after == 42.0


def test_secrets_are_scrubbed_from_error_text() -> None:
    """Secrets echoed by the server never appear in the error's message or body_head."""
    body = b"<html>invalid client_secret hunter2 for token abc.def</html>"
    with pytest.raises(PermanentError) as caught:
        classify(_TOKEN, answer(400, body), secrets=("hunter2", "abc.def"))
    text = f"{caught.value} {caught.value.body_head} {caught.value!r}"
    assert "hunter2" not in text and "abc.def" not in text


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Try again in 42 seconds.", 42.0),
        ("Rate limit exceeded, retry after 7s", 7.0),
        ("Please wait 3.5 sec", 3.5),
        ("Quota exceeded: 50 per 180 seconds. Retry in 12 seconds.", 12.0),
        ("API calls quota exceeded! maximum admitted 50 per 180s.", None),
        ("API calls quota exceeded! maximum admitted 50 per 3m.", None),
        ("Too many requests", None),
        (None, None),
    ],
)
def test_retry_after_from_message(message: str | None, expected: float | None) -> None:
    """ASSUMED: a 429 message may name the wait in seconds; a window length is not a wait."""
    assert assumed.retry_after_from_message(message) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"Message": "bad"}, "bad"),
        ({"message": "lower"}, "lower"),
        ({"error": "invalid_client"}, "invalid_client"),
        ({"Other": 1}, None),
        ("plain string", "plain string"),
        ([1, 2], None),
        (None, None),
    ],
)
def test_error_message_shapes(body: Any, expected: str | None) -> None:
    """ASSUMED: DealPOS's error text is read from `Message` (or a few common variants)."""
    assert assumed.error_message(body) == expected
