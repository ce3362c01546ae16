"""DealposClient over a strict HTTP mock: token life, wire format, pacing, errors, secrecy."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses
from responses import matchers
from structlog.testing import capture_logs

from sync_job.dealpos import DealposClient, Pacer
from sync_job.dealpos.wire import CreatedInvoice
from sync_job.domain.errors import (
    AuthError,
    Conflict,
    OutcomeUnknown,
    PermanentError,
    RemoteError,
    TransientError,
)
from sync_job.domain.invoice import Customer, InvoiceDraft, InvoiceLine, InvoicePayment
from tests.dealpos.dealpos_fakes import (
    BASE,
    CLIENT_ID,
    CLIENT_SECRET,
    DETAIL_URL,
    INVOICE_URL,
    PAY_URL,
    SEND_URL,
    TOKEN_URL,
    FakeClock,
    add_token,
)

CREATED = {"ID": "0b7e6a52-1111-4c3e-9d5a-2f8f2c1d0e01", "Number": "TT-576461413038785752"}


DETAIL = {"ID": "0b7e", "Number": "TT-1", "PaymentStatus": "Unpaid", "FulfillmentStatus": "Unsent"}
PAID = {"Message": "Invoice TT-1 has successfully completed a Paid"}
DELETED = "Invoice has been delete!{}"


def invoice_body(**overrides: Any) -> InvoiceDraft:
    """A drafted invoice like the flow builds, money as Decimal."""
    fields: dict[str, Any] = {
        "outlet": "Online Store",
        "number": "TT-576461413038785752",
        "date": "2026-11-27",
        "tag": "TikTok",
        "reference": "576461413038785752",
        "fulfillment": "Unsent",
        "customer": Customer("David Kong"),
        "lines": (InvoiceLine("red_iphone_256", 2, Decimal("150000"), Decimal(0), "Iphone"),),
        "note": "TikTok Shop order 576461413038785752",
    }
    fields.update(overrides)
    return InvoiceDraft(**fields)


def wire(call: Any) -> str:
    """The exact text a recorded request carried as its body."""
    body = call.request.body
    return body.decode() if isinstance(body, bytes) else str(body)


def sent_body(call: Any) -> Any:
    """The JSON body a recorded request carried."""
    return json.loads(wire(call))


def test_nothing_asked_means_no_call_at_all(
    rsps: responses.RequestsMock, client: DealposClient
) -> None:
    """Building a client makes no HTTP call, not even for a token."""
    assert len(rsps.calls) == 0
    assert client.stats.calls == 0


def test_token_is_fetched_once_and_reused(
    rsps: responses.RequestsMock, client: DealposClient
) -> None:
    """The first call fetches a token; later calls reuse it and carry it as a Bearer header."""
    add_token(rsps, "tok-1")
    rsps.add(responses.POST, INVOICE_URL, json=CREATED)
    rsps.add(responses.GET, DETAIL_URL, json=DETAIL)
    client.create_invoice(invoice_body())
    client.find_invoice("Online Store", "TT-1")
    assert [str(c.request.url).split("?")[0] for c in rsps.calls] == [
        TOKEN_URL,
        INVOICE_URL,
        DETAIL_URL,
    ]
    assert sent_body(rsps.calls[0]) == {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    assert all(c.request.headers["Authorization"] == "Bearer tok-1" for c in rsps.calls[1:])
    assert "Authorization" not in rsps.calls[0].request.headers


def test_token_is_refetched_shortly_before_it_expires(
    rsps: responses.RequestsMock, client: DealposClient, fake: FakeClock
) -> None:
    """A token is dropped a minute before `expires_in` runs out and a new one fetched."""
    add_token(rsps, "tok-1", expires_in=600)
    rsps.add(responses.GET, DETAIL_URL, json=DETAIL)
    add_token(rsps, "tok-2", expires_in=600)
    rsps.add(responses.GET, DETAIL_URL, json=DETAIL)
    client.find_invoice("Online Store", "TT-1")
    fake.advance(541)
    client.find_invoice("Online Store", "TT-1")
    assert rsps.calls[3].request.headers["Authorization"] == "Bearer tok-2"


def test_401_reauthenticates_once_and_retries(
    rsps: responses.RequestsMock, client: DealposClient
) -> None:
    """A 401 fetches exactly one new token and repeats the call once with it."""
    add_token(rsps, "tok-old")
    rsps.add(responses.POST, INVOICE_URL, status=401, json={"Message": "Token expired"})
    add_token(rsps, "tok-new")
    rsps.add(responses.POST, INVOICE_URL, json=CREATED)
    assert client.create_invoice(invoice_body()) == CreatedInvoice(CREATED["ID"], CREATED["Number"])
    assert client.stats.by_endpoint() == {"token": 2, "create_invoice": 2}
    assert rsps.calls[3].request.headers["Authorization"] == "Bearer tok-new"


def test_second_401_is_an_auth_error(rsps: responses.RequestsMock, client: DealposClient) -> None:
    """A 401 even with a fresh token raises AuthError (no third attempt)."""
    add_token(rsps, "tok-1")
    rsps.add(responses.GET, DETAIL_URL, status=401, json={"Message": "Unauthorized"})
    add_token(rsps, "tok-2")
    rsps.add(responses.GET, DETAIL_URL, status=401, json={"Message": "Unauthorized"})
    with pytest.raises(AuthError, match="HTTP 401"):
        client.find_invoice("Online Store", "TT-1")


@pytest.mark.parametrize("status", [400, 401, 404])
def test_refused_token_is_an_auth_error_never_not_found(
    rsps: responses.RequestsMock, client: DealposClient, status: int
) -> None:
    """Any refusal of the token call is AuthError, so a lookup never reads it as "no invoice"."""
    rsps.add(responses.POST, TOKEN_URL, status=status, json={"Message": "invalid_client"})
    with pytest.raises(AuthError, match="invalid_client"):
        client.find_invoice("Online Store", "TT-1")


def test_token_call_goes_through_the_pacer(rsps: responses.RequestsMock, fake: FakeClock) -> None:
    """The token call uses a quota slot: with 2 calls per window, token + create fill it."""
    pacer = Pacer(2, 10.0, clock=fake.clock, sleep=fake.sleep, wall_clock=fake.wall)
    client = DealposClient(
        base_url=BASE, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, pacer=pacer
    )
    add_token(rsps)
    rsps.add(responses.POST, INVOICE_URL, json=CREATED)
    rsps.add(responses.POST, INVOICE_URL, json=CREATED)
    client.create_invoice(invoice_body())
    assert fake.sleeps == []
    client.create_invoice(invoice_body())
    assert sum(fake.sleeps) == pytest.approx(10.0)


def test_429_with_retry_after_raises_transient_and_holds_the_pacer(
    rsps: responses.RequestsMock, client: DealposClient, pacer: Pacer, fake: FakeClock
) -> None:
    """A 429 raises TransientError with retry_after, and the pacer holds the next call that long."""
    add_token(rsps)
    rsps.add(
        responses.POST,
        INVOICE_URL,
        status=429,
        json={"Message": "Too many requests"},
        headers={"Retry-After": "25", "RateLimit-Remaining": "0"},
    )
    rsps.add(responses.POST, INVOICE_URL, json=CREATED)
    with pytest.raises(TransientError) as caught:
        client.create_invoice(invoice_body())
    assert type(caught.value) is TransientError
    assert caught.value.retry_after == 25.0
    client.create_invoice(invoice_body())
    assert fake.sleeps == [pytest.approx(25.0)]
    assert client.stats.rate_limited == 1


def test_429_wait_named_in_body_holds_the_pacer(
    rsps: responses.RequestsMock, client: DealposClient, pacer: Pacer
) -> None:
    """ASSUMED: without Retry-After, seconds named in a 429 Message set retry_after and the hold."""
    add_token(rsps)
    rsps.add(responses.GET, DETAIL_URL, status=429, json={"Message": "Try again in 9 seconds"})
    with pytest.raises(TransientError) as caught:
        client.find_invoice("Online Store", "TT-1")
    assert caught.value.retry_after == 9.0
    assert pacer.wait_turn() == pytest.approx(9.0)


def test_read_timeout_on_create_is_outcome_unknown(
    rsps: responses.RequestsMock, client: DealposClient
) -> None:
    """A create whose answer timed out may have been applied: OutcomeUnknown."""
    add_token(rsps)
    rsps.add(responses.POST, INVOICE_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(OutcomeUnknown):
        client.create_invoice(invoice_body())
    assert client.stats.by_outcome[("create_invoice", "ReadTimeout")] == 1


def test_read_timeout_on_find_is_plain_transient(
    rsps: responses.RequestsMock, client: DealposClient
) -> None:
    """A lookup that timed out is merely transient: reading twice does no harm."""
    add_token(rsps)
    rsps.add(responses.GET, DETAIL_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(TransientError) as caught:
        client.find_invoice("Online Store", "TT-1")
    assert type(caught.value) is TransientError


def test_unknown_variant_is_permanent_with_dealpos_message(
    rsps: responses.RequestsMock, client: DealposClient
) -> None:
    """A 400 for an unknown variant is PermanentError carrying DealPOS's message."""
    add_token(rsps)
    message = "Variant with code 'blue_iphone_512' was not found"
    rsps.add(responses.POST, INVOICE_URL, status=400, json={"Message": message})
    with pytest.raises(PermanentError) as caught:
        client.create_invoice(invoice_body())
    assert type(caught.value) is PermanentError
    assert message in str(caught.value) and "HTTP 400" in str(caught.value)


def test_409_on_create_is_conflict(rsps: responses.RequestsMock, client: DealposClient) -> None:
    """A 409 on create (Number already used in the outlet) raises Conflict."""
    add_token(rsps)
    rsps.add(responses.POST, INVOICE_URL, status=409, json={"Message": "Number already exists"})
    with pytest.raises(Conflict, match="HTTP 409"):
        client.create_invoice(invoice_body())


def test_html_502_is_transient_with_the_first_bytes(
    rsps: responses.RequestsMock, client: DealposClient
) -> None:
    """An HTML 502 page on a lookup is TransientError whose message quotes the page's start."""
    add_token(rsps)
    page = "<html><head><title>502 Bad Gateway</title></head><body>" + "." * 400 + "</body></html>"
    rsps.add(responses.GET, DETAIL_URL, status=502, body=page, content_type="text/html")
    with pytest.raises(TransientError) as caught:
        client.find_invoice("Online Store", "TT-1")
    assert type(caught.value) is TransientError
    assert "HTTP 502" in str(caught.value)
    assert "<title>502 Bad Gateway</title>" in str(caught.value)
    assert caught.value.body_head == page[:200]


def test_gateway_error_on_a_write_is_outcome_unknown(
    rsps: responses.RequestsMock, client: DealposClient
) -> None:
    """A 502/504 on a write may hide an applied request: OutcomeUnknown (still a TransientError)."""
    add_token(rsps)
    rsps.add(responses.POST, SEND_URL, status=504, body="<html>Gateway Time-out</html>")
    with pytest.raises(OutcomeUnknown, match="Gateway Time-out"):
        client.send_invoice("Online Store", "TT-1", "2026-11-28")


def test_find_returns_none_on_404(rsps: responses.RequestsMock, client: DealposClient) -> None:
    """An invoice DealPOS does not know is None, and the lookup asks by Outlet and Number."""
    add_token(rsps)
    query = {"Outlet": "Online Store", "Number": "TT-1"}
    rsps.add(
        responses.GET,
        DETAIL_URL,
        status=404,
        json={"Message": "Not found"},
        match=[matchers.query_param_matcher(query)],
    )
    assert client.find_invoice("Online Store", "TT-1") is None


def test_money_is_exact_on_the_wire(rsps: responses.RequestsMock, client: DealposClient) -> None:
    """Decimal Price, Discount and payment Amount are sent as exact JSON numbers, never floats."""
    add_token(rsps)
    rsps.add(responses.POST, INVOICE_URL, json=CREATED)
    line = InvoiceLine("red_iphone_256", 3, Decimal("150000.10"), Decimal("0.30"), "")
    pay = InvoicePayment("2026-11-27", Decimal("450000.00"), "TikTok Shop", "")
    client.create_invoice(invoice_body(lines=(line,), payments=(pay,)))
    text = wire(rsps.calls[1])
    assert '"Price":150000.10' in text
    assert '"Discount":0.30' in text
    assert '"Amount":450000.00' in text


def test_send_pay_delete_bodies(rsps: responses.RequestsMock, client: DealposClient) -> None:
    """send, pay and delete send exactly the documented bodies to their endpoints."""
    send = {
        "Outlet": "Online Store",
        "Number": "TT-1",
        "Fulfillment": {"Outlet": "Online Store", "Date": "2026-11-28"},
    }
    payment = {"Date": "2026-12-01", "Amount": 0, "Method": "TikTok Shop", "Note": "settled"}
    pay = {"Outlet": "Online Store", "Number": "TT-1", "Payments": [payment]}
    delete = {"Outlet": "Online Store", "Number": "TT-1"}
    add_token(rsps)
    sent = {"ID": "x", "OrderFulfillmentState": "Sent"}
    rsps.add(responses.POST, SEND_URL, json=sent, match=[matchers.json_params_matcher(send)])
    rsps.add(responses.POST, PAY_URL, json=PAID, match=[matchers.json_params_matcher(pay)])
    rsps.add(
        responses.DELETE, INVOICE_URL, json=DELETED, match=[matchers.json_params_matcher(delete)]
    )
    by_id = {"InvoiceID": "0b7e"}
    rsps.add(
        responses.DELETE, INVOICE_URL, json=DELETED, match=[matchers.json_params_matcher(by_id)]
    )
    client.send_invoice("Online Store", "TT-1", "2026-11-28")
    client.pay_in_full("Online Store", "TT-1", "2026-12-01", "TikTok Shop", "settled")
    client.delete_invoice("Online Store", "TT-1")
    client.delete_invoice("Online Store", "TT-1", invoice_id="0b7e")
    assert '"Amount":0' in wire(rsps.calls[2])


def test_content_type_only_with_a_body(rsps: responses.RequestsMock, client: DealposClient) -> None:
    """A bodyless GET declares no Content-Type; POST and DELETE with bodies declare JSON."""
    add_token(rsps)
    rsps.add(responses.GET, DETAIL_URL, json=DETAIL)
    rsps.add(responses.DELETE, INVOICE_URL, json=DELETED)
    client._session.headers["Content-Type"] = "application/json"  # a careless shared session
    client.find_invoice("Online Store", "TT-1")
    client.delete_invoice("Online Store", "TT-1")
    token, find, delete = (c.request for c in rsps.calls)
    assert "Content-Type" not in find.headers
    assert find.body is None
    assert token.headers["Content-Type"] == "application/json"
    assert delete.headers["Content-Type"] == "application/json"


def test_every_call_has_connect_and_read_timeouts(
    rsps: responses.RequestsMock, pacer: Pacer
) -> None:
    """Each request carries a (connect, read) timeout, connect capped at 10 s."""
    client = DealposClient(
        base_url=BASE + "/api/v3/",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        pacer=pacer,
        timeout=30.0,
    )
    add_token(rsps)
    rsps.add(responses.GET, DETAIL_URL, json=DETAIL)
    client.find_invoice("Online Store", "TT-1")
    timeouts = [getattr(c.request, "req_kwargs", {}).get("timeout") for c in rsps.calls]
    assert timeouts == [(10.0, 30.0), (10.0, 30.0)]


def test_one_debug_line_per_call_without_secrets(
    rsps: responses.RequestsMock, client: DealposClient
) -> None:
    """Every HTTP call logs one debug line (method, path, status, ms) and no secret."""
    add_token(rsps, "tok-visible-nowhere")
    rsps.add(responses.POST, INVOICE_URL, json=CREATED)
    with capture_logs() as logs:
        client.create_invoice(invoice_body())
    assert [(e["method"], e["path"], e["status"]) for e in logs] == [
        ("POST", "/api/v3/Token/OAuth2", "200"),
        ("POST", "/api/v3/Invoice", "200"),
    ]
    assert all(e["log_level"] == "debug" and isinstance(e["ms"], float) for e in logs)
    assert CLIENT_SECRET not in repr(logs) and "tok-visible-nowhere" not in repr(logs)


def test_stats_count_calls_by_endpoint_and_outcome(
    rsps: responses.RequestsMock, client: DealposClient
) -> None:
    """Stats count every call by (endpoint, status or error name), in total and 429s apart."""
    add_token(rsps)
    rsps.add(responses.POST, INVOICE_URL, status=429, json={"Message": "slow down"})
    rsps.add(responses.POST, INVOICE_URL, json=CREATED)
    rsps.add(responses.GET, DETAIL_URL, body=requests.exceptions.ConnectTimeout("no route"))
    with pytest.raises(TransientError):
        client.create_invoice(invoice_body())
    client.create_invoice(invoice_body())
    with pytest.raises(TransientError):
        client.find_invoice("Online Store", "TT-1")
    assert client.stats.as_dict() == {
        "calls": 4,
        "rate_limited": 1,
        "outcomes": {
            "create_invoice 200": 1,
            "create_invoice 429": 1,
            "find_invoice ConnectTimeout": 1,
            "token 200": 1,
        },
    }


def echo_secrets(mock: responses.RequestsMock) -> None:
    """Register answers that echo both the client secret and the token back."""
    add_token(mock, "tok-SECRET-123")
    leak = f"bad request from {CLIENT_SECRET} with Bearer tok-SECRET-123"
    mock.add(responses.POST, INVOICE_URL, status=400, json={"Message": leak})


def echo_secret_in_token_refusal(mock: responses.RequestsMock) -> None:
    """Register a token refusal whose HTML page repeats the client secret."""
    mock.add(responses.POST, TOKEN_URL, status=400, body=f"<html>bad secret {CLIENT_SECRET}</html>")


def echo_token_in_401(mock: responses.RequestsMock) -> None:
    """Register two 401s whose messages repeat the tokens sent."""
    add_token(mock, "tok-SECRET-123")
    mock.add(responses.POST, INVOICE_URL, status=401, json={"Message": "tok-SECRET-123 expired"})
    add_token(mock, "tok-SECRET-456")
    mock.add(responses.POST, INVOICE_URL, status=401, json={"Message": "tok-SECRET-456 refused"})


def timeout_after_token(mock: responses.RequestsMock) -> None:
    """Register a token and then a read timeout."""
    add_token(mock, "tok-SECRET-123")
    mock.add(responses.POST, INVOICE_URL, body=requests.exceptions.ReadTimeout("timed out"))


@pytest.mark.parametrize(
    "scenario", [echo_secrets, echo_secret_in_token_refusal, echo_token_in_401, timeout_after_token]
)
def test_secrets_never_appear_in_exception_text(
    rsps: responses.RequestsMock,
    client: DealposClient,
    scenario: Callable[[responses.RequestsMock], None],
) -> None:
    """Neither the client secret nor any bearer token appears in an error or its causes."""
    scenario(rsps)
    with pytest.raises(RemoteError) as caught:
        client.create_invoice(invoice_body())
    texts = []
    error: BaseException | None = caught.value
    while error is not None:
        texts += [str(error), repr(error), getattr(error, "body_head", "")]
        error = error.__cause__ or error.__context__
    joined = " ".join(texts)
    assert CLIENT_SECRET not in joined
    assert "tok-SECRET" not in joined
    assert CLIENT_SECRET not in repr(client)


def test_redirects_are_not_followed(rsps: responses.RequestsMock, client: DealposClient) -> None:
    """A redirect is reported as a permanent error, never followed (it would turn POST into GET)."""
    add_token(rsps)
    rsps.add(responses.POST, INVOICE_URL, status=301, headers={"Location": "https://elsewhere/"})
    with pytest.raises(PermanentError, match="HTTP 301"):
        client.create_invoice(invoice_body())
