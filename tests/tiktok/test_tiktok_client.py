"""TikTokClient against a strict mock: signing on the wire, paging, retries, tokens, secrets."""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
from responses import matchers
from structlog.testing import capture_logs

from sync_job.domain.errors import (
    AuthError,
    InvalidTimestamp,
    PermanentError,
    TransientError,
)
from sync_job.domain.model import Tokens, Window
from sync_job.tiktok.client import TikTokClient
from sync_job.tiktok.signing import sign
from tests.tiktok.tiktok_fakes import (
    APP_SECRET,
    AUTH_URL,
    BASE_URL,
    NOW,
    OLD_TOKENS,
    FakeClock,
    MemoryTokenStore,
)

SEARCH = BASE_URL + "/order/202309/orders/search"
RETURNS = BASE_URL + "/return_refund/202309/returns/search"
DETAIL = BASE_URL + "/order/202309/orders"
SHOPS = BASE_URL + "/authorization/202309/shops"
REFRESH = AUTH_URL + "/api/v2/token/refresh"
CIPHER = "GCP_cipher_1"
WINDOW = Window(int(NOW) - 3600, int(NOW) - 120)
NEW_TOKENS = Tokens(
    access_token="access-new-44aa",
    access_expires_at=int(NOW) + 7 * 86400,
    refresh_token="refresh-new-55bb",
    refresh_expires_at=int(NOW) + 90 * 86400,
)

MakeClient = Callable[..., TikTokClient]


def envelope(data: Any = None, code: int = 0, message: str = "Success") -> str:
    """Serialize a TikTok response envelope."""
    return json.dumps({"code": code, "message": message, "request_id": "req-1", "data": data})


def orders_page(ids: list[str], next_token: str = "") -> str:
    """An order-search success page holding orders with these ids."""
    orders = [{"id": i, "update_time": int(NOW) - 60} for i in ids]
    return envelope({"orders": orders, "next_page_token": next_token, "total_count": 5})


def refresh_answer(tokens: Tokens = NEW_TOKENS) -> str:
    """A token-refresh success answer carrying this pair."""
    return envelope(
        {
            "access_token": tokens.access_token,
            "access_token_expire_in": tokens.access_expires_at,
            "refresh_token": tokens.refresh_token,
            "refresh_token_expire_in": tokens.refresh_expires_at,
            "open_id": "o",
            "seller_name": "s",
        }
    )


def query_of(request: requests.PreparedRequest) -> dict[str, str]:
    """The request's query parameters, percent-decoded to their raw values."""
    return dict(parse_qsl(urlsplit(str(request.url)).query, keep_blank_values=True))


def raw_query(request: requests.PreparedRequest) -> str:
    """The request's query string exactly as it went on the wire."""
    return urlsplit(str(request.url)).query


def signed_correctly(request: requests.PreparedRequest) -> tuple[bool, str]:
    """A responses matcher: the `sign` param equals a recomputation over the decoded request."""
    params = query_of(request)
    body = request.body if isinstance(request.body, bytes) else None
    expected = sign(urlsplit(str(request.url)).path, params, body, APP_SECRET)
    if params.get("sign") != expected:
        return False, f"bad sign {params.get('sign')} != {expected}"
    return True, ""


def sent(rsps: responses.RequestsMock, index: int) -> requests.PreparedRequest:
    """The index-th request the mock received."""
    request = rsps.calls[index].request
    assert isinstance(request, requests.PreparedRequest)
    return request


def test_search_request_is_signed_stamped_and_carries_headers(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """An order search carries app_key, timestamp, shop_cipher, a valid sign, the token header."""
    rsps.post(SEARCH, body=orders_page(["1"]), match=[signed_correctly])
    pages = list(make_client().iter_orders(CIPHER, WINDOW))
    request = sent(rsps, 0)
    query = query_of(request)
    assert query["timestamp"] == str(int(NOW))
    assert query["shop_cipher"] == CIPHER
    assert query["page_size"] == "100"
    assert (query["sort_field"], query["sort_order"]) == ("update_time", "ASC")
    assert "page_token" not in query
    assert request.headers["x-tts-access-token"] == OLD_TOKENS.access_token
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body or b"") == {
        "update_time_ge": WINDOW.start,
        "update_time_lt": WINDOW.end,
    }
    assert [p.items[0]["id"] for p in pages] == ["1"]


def test_pages_follow_tokens_with_plus_and_slash(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """Paging follows next_page_token; `+` and `/` are signed raw, percent-encoded on the wire."""
    first, second = "ab+c/d==", "x/y+z"
    rsps.post(SEARCH, body=orders_page(["1", "2"], first), match=[signed_correctly])
    rsps.post(SEARCH, body=orders_page(["3"], second), match=[signed_correctly])
    rsps.post(SEARCH, body=orders_page([], ""), match=[signed_correctly])
    client = make_client()
    pages = list(client.iter_orders(CIPHER, WINDOW))
    assert [(p.number, [o["id"] for o in p.items]) for p in pages] == [
        (1, ["1", "2"]),
        (2, ["3"]),
        (3, []),
    ]
    assert "page_token=ab%2Bc%2Fd%3D%3D" in raw_query(sent(rsps, 1))
    assert "page_token=x%2Fy%2Bz" in raw_query(sent(rsps, 2))
    assert query_of(sent(rsps, 1))["page_token"] == first
    assert client.calls["/order/202309/orders/search"] == 3


def test_returns_search_pages_fifty_and_reads_return_orders(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """The returns search asks for 50 per page and yields data.return_orders."""
    body = envelope({"return_orders": [{"return_id": "r1"}], "next_page_token": ""})
    rsps.post(RETURNS, body=body, match=[signed_correctly])
    pages = list(make_client().iter_returns(CIPHER, WINDOW))
    assert query_of(sent(rsps, 0))["page_size"] == "50"
    assert pages[0].items == [{"return_id": "r1"}]
    assert pages[0].total_count is None


def test_rate_limit_waits_retry_after_and_resigns(
    rsps: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    """A 429 (36009002, Retry-After 7) sleeps at least 7 s, then re-stamps and re-signs."""
    limited = envelope(code=36009002, message="Too many requests")
    rsps.post(SEARCH, body=limited, status=429, headers={"Retry-After": "7"})
    rsps.post(SEARCH, body=orders_page(["1"]), match=[signed_correctly])
    pages = list(make_client().iter_orders(CIPHER, WINDOW))
    assert len(pages) == 1
    assert len(clock.sleeps) == 1
    assert 7 <= clock.sleeps[0] <= 60
    before, after = query_of(sent(rsps, 0)), query_of(sent(rsps, 1))
    assert int(after["timestamp"]) >= int(before["timestamp"]) + 7
    assert after["sign"] != before["sign"]


def test_expired_token_refreshes_saves_once_then_retries(
    rsps: responses.RequestsMock, make_client: MakeClient, store: MemoryTokenStore
) -> None:
    """105002 refreshes once; both new tokens are saved in one write before the retried call."""
    saved_at_retry: list[int] = []

    def retried(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        saved_at_retry.append(len(store.saved))
        return 200, {}, orders_page(["1"])

    rsps.post(SEARCH, body=envelope(code=105002, message="Access token is expired"), status=401)
    rsps.get(REFRESH, body=refresh_answer())
    rsps.add_callback(responses.POST, SEARCH, callback=retried, match=[signed_correctly])
    pages = list(make_client().iter_orders(CIPHER, WINDOW))
    assert len(pages) == 1
    assert store.saved == [NEW_TOKENS]
    assert saved_at_retry == [1]
    refresh = query_of(sent(rsps, 1))
    assert refresh["refresh_token"] == OLD_TOKENS.refresh_token
    assert refresh["grant_type"] == "refresh_token"
    assert "sign" not in refresh
    assert sent(rsps, 2).headers["x-tts-access-token"] == NEW_TOKENS.access_token


def test_second_expiry_after_refresh_is_an_auth_error(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """A 105002 right after a refresh is not refreshed again: it raises AuthError."""
    expired = envelope(code=105002, message="Access token is expired")
    rsps.post(SEARCH, body=expired)
    rsps.get(REFRESH, body=refresh_answer())
    rsps.post(SEARCH, body=expired)
    with pytest.raises(AuthError, match="105002"):
        list(make_client().iter_orders(CIPHER, WINDOW))


def test_refused_refresh_is_an_auth_error_and_saves_nothing(
    rsps: responses.RequestsMock, make_client: MakeClient, store: MemoryTokenStore
) -> None:
    """A refresh answered with an error code raises AuthError and leaves the store alone."""
    rsps.get(REFRESH, body=envelope(code=105003, message="refresh token expired"))
    with pytest.raises(AuthError, match="re-authorize"):
        make_client().refresh_tokens()
    assert store.saved == []


def test_bad_signature_is_fatal_and_never_retried(
    rsps: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    """106001 raises PermanentError after exactly one request and no sleep."""
    rsps.post(SEARCH, body=envelope(code=106001, message="Invalid sign"))
    client = make_client()
    with pytest.raises(PermanentError, match="106001"):
        list(client.iter_orders(CIPHER, WINDOW))
    assert client.calls["/order/202309/orders/search"] == 1
    assert clock.sleeps == []


def test_rejected_timestamp_is_restamped_once(
    rsps: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    """36009004 about the timestamp is retried once, with a fresh timestamp and signature."""

    def skewed(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        clock.now += 30  # the clock got corrected between the two attempts
        return 200, {}, envelope(code=36009004, message="Invalid timestamp")

    rsps.add_callback(responses.POST, SEARCH, callback=skewed)
    rsps.post(SEARCH, body=orders_page(["1"]), match=[signed_correctly])
    assert len(list(make_client().iter_orders(CIPHER, WINDOW))) == 1
    assert query_of(sent(rsps, 1))["timestamp"] == str(int(NOW) + 30)
    assert clock.sleeps == []


def test_rejected_timestamp_twice_raises(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """A second timestamp rejection raises InvalidTimestamp instead of looping."""
    rejected = envelope(code=36009004, message="Invalid timestamp")
    rsps.post(SEARCH, body=rejected)
    rsps.post(SEARCH, body=rejected)
    with pytest.raises(InvalidTimestamp, match="system clock"):
        list(make_client().iter_orders(CIPHER, WINDOW))


def test_other_catch_all_errors_are_fatal(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """36009004 about anything but the timestamp is fatal on the first answer."""
    rsps.post(SEARCH, body=envelope(code=36009004, message="Invalid shop_cipher"))
    with pytest.raises(PermanentError, match="shop_cipher"):
        list(make_client().iter_orders(CIPHER, WINDOW))


def test_server_errors_exhaust_attempts_then_raise_transient(
    rsps: responses.RequestsMock, make_client: MakeClient, clock: FakeClock
) -> None:
    """Six 503s raise TransientError after 6 attempts and 5 capped backoff sleeps."""
    for _ in range(6):
        rsps.post(SEARCH, body=envelope(code=36009003, message="busy"), status=503)
    client = make_client(max_backoff=5.0)
    with pytest.raises(TransientError, match="36009003"):
        list(client.iter_orders(CIPHER, WINDOW))
    assert client.calls["/order/202309/orders/search"] == 6
    assert len(clock.sleeps) == 5
    assert all(0 < s <= 5.0 for s in clock.sleeps)


def test_non_json_proxy_error_is_retried(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """An HTML 502 from a proxy is retried, then the real answer is used."""
    rsps.post(SEARCH, body="<html>Bad Gateway</html>", status=502, content_type="text/html")
    rsps.post(SEARCH, body=orders_page(["1"]))
    assert len(list(make_client().iter_orders(CIPHER, WINDOW))) == 1


def test_non_json_client_error_is_fatal_with_body_head(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """A non-JSON 404 is fatal at once and its error shows the start of the body."""
    rsps.post(SEARCH, body="<html>Not Found here</html>", status=404, content_type="text/html")
    with pytest.raises(PermanentError, match="Not Found here"):
        list(make_client().iter_orders(CIPHER, WINDOW))


def test_connection_error_is_retried(rsps: responses.RequestsMock, make_client: MakeClient) -> None:
    """A refused connection is retried like any transient failure."""
    rsps.post(SEARCH, body=requests.ConnectionError("connection refused"))
    rsps.post(SEARCH, body=orders_page(["1"]))
    assert len(list(make_client().iter_orders(CIPHER, WINDOW))) == 1


def test_decimal_amounts_and_long_ids_survive(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """JSON fractions arrive as exact Decimals; decimal strings and long ids stay untouched."""
    body = (
        '{"code":0,"message":"Success","request_id":"r","data":{"next_page_token":"",'
        '"orders":[{"id":"576653688135258178","legacy_id":576653688135258178,'
        '"payment":{"total_amount":"1234.10","tax":0.10,"fee":19.99}}]}}'
    )
    rsps.post(SEARCH, body=body)
    order = next(make_client().iter_orders(CIPHER, WINDOW)).items[0]
    assert order["payment"]["total_amount"] == "1234.10"
    assert order["payment"]["tax"] == Decimal("0.10")
    assert order["payment"]["fee"] == Decimal("19.99")
    assert order["legacy_id"] == 576653688135258178


def test_proactive_refresh_near_expiry(
    rsps: responses.RequestsMock, make_client: MakeClient, store: MemoryTokenStore
) -> None:
    """A token expiring within the margin is refreshed and saved before the first call."""
    expiring = Tokens("access-soon-01", int(NOW) + 3600, "refresh-soon-02", int(NOW) + 86400 * 30)
    rsps.get(
        REFRESH,
        body=refresh_answer(),
        match=[
            matchers.query_param_matcher(
                {
                    "app_key": "test-app-key",
                    "app_secret": APP_SECRET,
                    "refresh_token": "refresh-soon-02",
                    "grant_type": "refresh_token",
                }
            )
        ],
    )
    rsps.get(SHOPS, body=envelope({"shops": [{"id": "7", "cipher": CIPHER}]}))
    shops = make_client(initial_tokens=expiring).fetch_authorized_shops()
    assert shops == [{"id": "7", "cipher": CIPHER}]
    assert store.saved == [NEW_TOKENS]
    assert sent(rsps, 1).headers["x-tts-access-token"] == NEW_TOKENS.access_token


def test_fresh_short_lived_token_is_not_refreshed_again(
    rsps: responses.RequestsMock, make_client: MakeClient, store: MemoryTokenStore
) -> None:
    """A token the client just obtained is used even if it too expires within the margin."""
    short = Tokens("access-short-1", int(NOW) + 600, "refresh-short-2", int(NOW) + 86400)
    rsps.get(REFRESH, body=refresh_answer(short))
    rsps.get(SHOPS, body=envelope({"shops": []}))
    rsps.get(SHOPS, body=envelope({"shops": []}))
    client = make_client(initial_tokens=Tokens("a", int(NOW) + 60, "r", 0))
    client.fetch_authorized_shops()
    client.fetch_authorized_shops()
    assert store.saved == [short]


def test_unknown_expiry_is_not_refreshed_proactively(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """With access_expires_at 0 (unknown) the client waits for 105002 instead."""
    rsps.get(SHOPS, body=envelope({"shops": []}))
    make_client(initial_tokens=Tokens("a", 0, "r", 0)).fetch_authorized_shops()


def test_stored_tokens_win_over_initial_tokens(
    rsps: responses.RequestsMock, make_client: MakeClient, store: MemoryTokenStore
) -> None:
    """Tokens found in the store are used instead of the configured initial ones."""
    store.tokens = NEW_TOKENS
    rsps.get(SHOPS, body=envelope({"shops": []}))
    make_client().fetch_authorized_shops()
    assert sent(rsps, 0).headers["x-tts-access-token"] == NEW_TOKENS.access_token


def test_relative_expiry_values_become_absolute(
    rsps: responses.RequestsMock, make_client: MakeClient, store: MemoryTokenStore
) -> None:
    """An expiry given as seconds-from-now is stored as an absolute time."""
    relative = Tokens("access-rel-1", 604800, "refresh-rel-2", 0)
    rsps.get(REFRESH, body=refresh_answer(relative))
    tokens = make_client().refresh_tokens()
    assert tokens.access_expires_at == int(NOW) + 604800
    assert tokens.refresh_expires_at == 0
    assert store.saved == [tokens]


def test_authorized_shops_are_signed_without_shop_cipher(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """/authorization/* calls are signed but never carry shop_cipher."""
    rsps.get(SHOPS, body=envelope({"shops": []}), match=[signed_correctly])
    make_client().fetch_authorized_shops()
    assert "shop_cipher" not in query_of(sent(rsps, 0))


def test_fetch_orders_chunks_ids_by_fifty(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """Order detail asks for at most 50 comma-joined ids per signed GET."""
    ids = [str(576653688135258000 + n) for n in range(120)]
    for start in (0, 50, 100):
        chunk = ids[start : start + 50]
        rsps.get(
            DETAIL, body=envelope({"orders": [{"id": i} for i in chunk]}), match=[signed_correctly]
        )
    orders = make_client().fetch_orders(CIPHER, ids)
    assert [o["id"] for o in orders] == ids
    assert query_of(sent(rsps, 2))["ids"] == ",".join(ids[100:])
    assert "%2C" in raw_query(sent(rsps, 0))


def test_secrets_never_reach_errors_or_logs(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """A failing token call leaks no app_secret or token into errors, tracebacks or logs."""
    leaky = requests.ConnectionError(
        f"Max retries exceeded with url: /api/v2/token/refresh?app_secret={APP_SECRET}"
        f"&refresh_token={OLD_TOKENS.refresh_token} (Caused by NewConnectionError: refused)"
    )
    for _ in range(2):
        rsps.get(REFRESH, body=leaky)
    with capture_logs() as logs, pytest.raises(TransientError) as caught:
        make_client(max_attempts=2).refresh_tokens()
    shown = "".join(traceback.format_exception(caught.value)) + repr(logs)
    for secret in (APP_SECRET, OLD_TOKENS.refresh_token, OLD_TOKENS.access_token):
        assert secret not in shown
    assert any(entry["event"] == "tiktok call retrying" for entry in logs)


def test_error_logs_carry_request_id(rsps: responses.RequestsMock, make_client: MakeClient) -> None:
    """A classified error is logged with TikTok's request_id."""
    rsps.post(SEARCH, body=envelope(code=106001, message="Invalid sign"))
    with capture_logs() as logs, pytest.raises(PermanentError):
        list(make_client().iter_orders(CIPHER, WINDOW))
    assert [e["request_id"] for e in logs if e["event"] == "tiktok call failed"] == ["req-1"]


def test_tokens_repr_hides_the_secrets() -> None:
    """Printing a Tokens value never shows either token."""
    assert OLD_TOKENS.access_token not in repr(OLD_TOKENS)
    assert OLD_TOKENS.refresh_token not in repr(OLD_TOKENS)


def test_empty_window_makes_no_request(make_client: MakeClient) -> None:
    """A zero-length window yields nothing and calls nobody."""
    client = make_client()
    assert list(client.iter_orders(CIPHER, Window(5, 5))) == []
    assert sum(client.calls.values()) == 0


def test_window_rejects_end_before_start() -> None:
    """A window that ends before it starts is a programming error."""
    with pytest.raises(ValueError, match="before it starts"):
        Window(10, 5)


def looping_search(rsps: responses.RequestsMock, tokens: Callable[[int], str], total: Any) -> None:
    """Answer every order search with an empty page carrying `tokens(n)` as next token."""
    calls = [0]

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        calls[0] += 1
        data = {"orders": [], "next_page_token": tokens(calls[0]), "total_count": total}
        return 200, {}, envelope(data)

    rsps.assert_all_requests_are_fired = False  # the ordered registry uses each answer once
    for _ in range(60):
        rsps.add_callback(responses.POST, SEARCH, callback=answer)


def test_tokens_alternating_a_b_a_end_the_search(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """A -> B -> A is a loop (only an immediate repeat was caught before): a clear error."""
    looping_search(rsps, lambda n: "AB"[n % 2], 5)
    client = make_client()
    with pytest.raises(PermanentError, match=r"paging loop.*already used"):
        list(client.iter_orders(CIPHER, WINDOW))
    assert client.calls["/order/202309/orders/search"] == 3


def test_endless_fresh_tokens_stop_at_what_total_count_explains(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """Endless empty pages with fresh tokens: stopped after 2 x ceil(total/100) + slack pages."""
    looping_search(rsps, lambda n: f"tok-{n}", 150)
    client = make_client()
    with pytest.raises(PermanentError, match=r"paging loop.*total_count 150"):
        list(client.iter_orders(CIPHER, WINDOW))
    assert client.calls["/order/202309/orders/search"] == 2 * 2 + 10


def test_endless_fresh_tokens_without_total_stop_at_the_absolute_cap(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """No total_count to go by: the absolute cap on pages per window ends the search."""
    looping_search(rsps, lambda n: f"tok-{n}", None)
    client = make_client(max_pages_per_window=25)
    with pytest.raises(PermanentError, match="not given, limit 25 pages"):
        list(client.iter_orders(CIPHER, WINDOW))
    assert client.calls["/order/202309/orders/search"] == 25


def test_refusal_takes_up_the_pair_another_process_stored_without_refreshing(
    rsps: responses.RequestsMock, make_client: MakeClient, store: MemoryTokenStore
) -> None:
    """105002 with an older pair in memory: re-read the store under its lock, use the newer pair."""
    client = make_client()  # holds OLD_TOKENS
    store.tokens = NEW_TOKENS  # another process refreshed meanwhile (spending OLD's refresh token)
    rsps.post(SEARCH, body=envelope(code=105002, message="Access token is expired"), status=401)
    rsps.post(SEARCH, body=orders_page(["1"]))
    assert len(list(client.iter_orders(CIPHER, WINDOW))) == 1
    assert sent(rsps, 1).headers["x-tts-access-token"] == NEW_TOKENS.access_token
    assert store.saved == [] and store.locks == 1  # no refresh request, one locked re-read


def test_proactive_refresh_rereads_first(
    rsps: responses.RequestsMock, make_client: MakeClient, store: MemoryTokenStore, clock: FakeClock
) -> None:
    """Near expiry, a pair another process refreshed is taken up instead of refreshing again."""
    client = make_client()
    later = Tokens("access-later-66cc", OLD_TOKENS.access_expires_at + 7 * 86400, "refresh-77dd", 0)
    store.tokens = later
    clock.now = OLD_TOKENS.access_expires_at - 3600  # within the refresh margin of OLD only
    rsps.post(SEARCH, body=orders_page(["1"]))
    assert len(list(client.iter_orders(CIPHER, WINDOW))) == 1
    assert sent(rsps, 0).headers["x-tts-access-token"] == later.access_token
    assert store.saved == []


def test_refresh_happens_under_the_token_lock(
    rsps: responses.RequestsMock, make_client: MakeClient, store: MemoryTokenStore
) -> None:
    """The read-refresh-save is one locked unit: the save lands while the lock is held."""
    held: list[int] = []
    original = store.save_tokens

    def save(app_key: str, tokens: Tokens) -> None:
        held.append(store.locks)
        original(app_key, tokens)

    store.save_tokens = save  # type: ignore[method-assign]
    rsps.get(REFRESH, body=refresh_answer())
    assert make_client().refresh_tokens() == NEW_TOKENS
    assert held == [1]


REVOKED = envelope(code=36009004, message="x-tts-access-token header is invalid")


def test_revoked_access_token_refreshes_once_then_retries(
    rsps: responses.RequestsMock, make_client: MakeClient, store: MemoryTokenStore
) -> None:
    """401 + 36009004 about the access token: re-read, refresh once, retry with the new token."""
    rsps.post(SEARCH, body=REVOKED, status=401)
    rsps.get(REFRESH, body=refresh_answer())
    rsps.post(SEARCH, body=orders_page(["1"]))
    assert len(list(make_client().iter_orders(CIPHER, WINDOW))) == 1
    assert store.saved == [NEW_TOKENS] and store.locks == 1
    assert sent(rsps, 2).headers["x-tts-access-token"] == NEW_TOKENS.access_token


def test_revoked_access_token_still_refused_is_an_auth_error_naming_connect(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """Still refused after the refresh: an AuthError that says to run `sync-job connect`."""
    rsps.post(SEARCH, body=REVOKED, status=401)
    rsps.get(REFRESH, body=refresh_answer())
    rsps.post(SEARCH, body=REVOKED, status=401)
    with pytest.raises(AuthError, match="run `sync-job connect` again"):
        list(make_client().iter_orders(CIPHER, WINDOW))


def test_revoked_pair_whose_refresh_is_refused_names_connect(
    rsps: responses.RequestsMock, make_client: MakeClient
) -> None:
    """The whole pair revoked: the refresh is refused too, and the error says what to do."""
    rsps.post(SEARCH, body=REVOKED, status=401)
    rsps.get(REFRESH, body=envelope(code=36009004, message="invalid refresh_token"))
    with pytest.raises(AuthError, match="run `sync-job connect` again"):
        list(make_client().iter_orders(CIPHER, WINDOW))
