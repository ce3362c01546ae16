"""The TikTok Shop simulator: signing, timestamps, tokens, shop cipher, paging, envelope."""

from __future__ import annotations

from typing import Any

import requests

from sync_job.sandbox import ManualClock, TikTokSimulator
from sync_job.sandbox.tiktok_sim import _signature

SEARCH = "/order/202309/orders/search"
SHOPS = "/authorization/202309/shops"


def _order(order_id: str, update_time: int, create_time: int | None = None) -> dict[str, Any]:
    return {
        "id": order_id,
        "status": "AWAITING_SHIPMENT",
        "create_time": update_time if create_time is None else create_time,
        "update_time": update_time,
        "line_items": [],
    }


def test_signature_matches_the_official_vector() -> None:
    """The server-side signature reproduces TikTok's published test vector."""
    params = {"app_key": "29a39d", "timestamp": "1623812664"}
    expected = "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
    assert _signature("/authorization/202309/shops", params, None, "e59af819cc") == expected


def test_signature_ignores_sign_access_token_and_empty_values() -> None:
    """`sign`, `access_token` and empty values take no part in the signature."""
    base = {"app_key": "29a39d", "timestamp": "1623812664"}
    noisy = {**base, "sign": "x", "access_token": "y", "page_token": ""}
    assert _signature(SHOPS, noisy, b"", "e59af819cc") == _signature(
        SHOPS, base, None, "e59af819cc"
    )


def test_authorized_shops_answers_in_the_envelope(caller: Any) -> None:
    """A correctly signed call gets code 0, a request_id and the shop list."""
    status, env = caller.call("GET", SHOPS, shop=False)
    assert status == 200
    assert set(env) == {"code", "message", "request_id", "data"}
    assert env["code"] == 0 and env["request_id"]
    shop = env["data"]["shops"][0]
    assert shop["cipher"] == "GCP_shop+cipher/1" and shop["seller_type"] == "LOCAL"


def test_bad_signature_is_106001(caller: Any) -> None:
    """A signature made with the wrong secret is refused with 106001."""
    caller.secret = "not-the-secret"
    status, env = caller.call("GET", SHOPS, shop=False)
    assert (status, env["code"], env["data"]) == (401, 106001, None)


def test_body_is_part_of_the_signature(caller: Any, tiktok: TikTokSimulator, http: Any) -> None:
    """Changing the body after signing breaks the signature."""
    query = {
        "app_key": "test-app",
        "timestamp": str(int(tiktok.clock())),
        "shop_cipher": "GCP_shop+cipher/1",
        "page_size": "10",
    }
    query["sign"] = _signature(SEARCH, query, b'{"order_status":"UNPAID"}', "test-secret")
    r = http.post(
        tiktok.url + SEARCH,
        params=query,
        data=b'{"order_status":"COMPLETED"}',
        headers={"x-tts-access-token": caller.access_token},
    )
    assert r.json()["code"] == 106001


def test_timestamp_outside_the_window_is_refused(caller: Any, clock: ManualClock) -> None:
    """More than 5 min behind or 30 s ahead: 36009004 with a message about the timestamp."""
    now = int(clock())
    for skew, accepted in ((-299, True), (-301, False), (29, True), (31, False)):
        _, env = caller.call("GET", SHOPS, shop=False, timestamp=now + skew)
        assert (env["code"] == 0) is accepted, (skew, env)
        if not accepted:
            assert env["code"] == 36009004 and "timestamp" in env["message"]


def test_wrong_app_key_and_unknown_token_are_36009004(caller: Any, tiktok: TikTokSimulator) -> None:
    """An unknown access token is the catch-all 36009004, not 105002."""
    caller.access_token = "who-is-this"
    _, env = caller.call("GET", SHOPS, shop=False)
    assert env["code"] == 36009004 and "access token" in env["message"]


def test_expired_token_is_105002(caller: Any, tiktok: TikTokSimulator) -> None:
    """expire_access_token() makes the API answer 105002."""
    tiktok.expire_access_token()
    assert caller.call("GET", SHOPS, shop=False)[1]["code"] == 105002


def test_token_expires_after_its_lifetime(clock: ManualClock, http: requests.Session) -> None:
    """A token is good until its lifetime has passed on the simulator's clock."""
    sim = TikTokSimulator("test-app", "test-secret", [], token_lifetime_seconds=60, clock=clock)
    with sim:
        caller = TikTokCallerLike(sim, http)
        assert caller.get_shops() == 0
        clock.advance(59)
        assert caller.get_shops() == 0
        clock.advance(1)
        assert caller.get_shops() == 105002


class TikTokCallerLike:
    """A bare signed GET of the shop list, for simulators built inside a test."""

    def __init__(self, sim: TikTokSimulator, http: requests.Session) -> None:
        self.sim, self.http = sim, http

    def get_shops(self) -> int:
        """Call the shop list; return the envelope code."""
        query = {"app_key": self.sim.app_key, "timestamp": str(int(self.sim.clock()))}
        query["sign"] = _signature(SHOPS, query, None, self.sim.app_secret)
        headers = {"x-tts-access-token": self.sim.tokens[0]}
        r = self.http.get(self.sim.url + SHOPS, params=query, headers=headers, timeout=5)
        return int(r.json()["code"])


def test_refresh_rotates_both_tokens(
    tiktok: TikTokSimulator, http: Any, clock: ManualClock
) -> None:
    """A refresh returns a new pair with absolute expiries; the old refresh token dies."""
    old_access, old_refresh = tiktok.tokens
    query = {
        "app_key": "test-app",
        "app_secret": "test-secret",
        "refresh_token": old_refresh,
        "grant_type": "refresh_token",
    }
    env = http.get(tiktok.url + "/api/v2/token/refresh", params=query).json()
    assert env["code"] == 0 and env["message"] == "success"
    data = env["data"]
    assert data["access_token"] != old_access and data["refresh_token"] != old_refresh
    assert data["access_token_expire_in"] == int(clock()) + 7 * 86400
    assert data["refresh_token_expire_in"] > data["access_token_expire_in"]
    assert tiktok.tokens == (data["access_token"], data["refresh_token"])
    again = http.get(tiktok.url + "/api/v2/token/refresh", params=query).json()
    assert again["code"] == 36009004


def test_refreshed_token_works_after_expiry(
    caller: Any, tiktok: TikTokSimulator, http: Any
) -> None:
    """After expiry, refreshing gives an access token the API accepts."""
    tiktok.expire_access_token()
    query = {
        "app_key": "test-app",
        "app_secret": "test-secret",
        "refresh_token": tiktok.tokens[1],
        "grant_type": "refresh_token",
    }
    caller.access_token = http.get(tiktok.url + "/api/v2/token/refresh", params=query).json()[
        "data"
    ]["access_token"]
    assert caller.call("GET", SHOPS, shop=False)[1]["code"] == 0


def test_token_get_exchanges_an_auth_code(tiktok: TikTokSimulator, http: Any) -> None:
    """An issued auth code buys one pair, once; a wrong secret or unknown code is refused."""
    query = {
        "app_key": "test-app",
        "app_secret": "test-secret",
        "auth_code": tiktok.issue_auth_code(),
        "grant_type": "authorized_code",
    }
    assert http.get(tiktok.url + "/api/v2/token/get", params=query).json()["code"] == 0
    used = http.get(tiktok.url + "/api/v2/token/get", params=query).json()
    assert used["code"] == 36009004 and "used or expired" in used["message"]
    query["auth_code"] = tiktok.issue_auth_code()
    query["app_secret"] = "nope"
    r = http.get(tiktok.url + "/api/v2/token/get", params=query)
    assert (r.status_code, r.json()["code"]) == (200, 36009004)  # judge by code, not status


def test_authorize_page_hands_out_a_working_code(tiktok: TikTokSimulator, http: Any) -> None:
    """The sandbox's authorization link shows a code that token/get accepts."""
    page = http.get(tiktok.url + "/open/authorize", params={"service_id": "1"})
    assert page.status_code == 200
    code = page.text.split("connect --code ")[1].split("<")[0]
    query = {
        "app_key": "test-app",
        "app_secret": "test-secret",
        "auth_code": code,
        "grant_type": "authorized_code",
    }
    data = http.get(tiktok.url + "/api/v2/token/get", params=query).json()["data"]
    assert data["access_token"] == tiktok.tokens[0]
    assert http.get(tiktok.url + "/open/authorize").status_code == 400


def test_shop_cipher_rules(caller: Any) -> None:
    """Order paths need a known shop_cipher; authorization paths refuse one."""
    assert caller.call("GET", SHOPS, shop=True)[1]["code"] == 36009004
    _, env = caller.call("POST", SEARCH, {"page_size": "5"}, {}, shop=False)
    assert env["code"] == 36009004 and "shop_cipher" in env["message"]
    assert caller.call("POST", SEARCH, {"page_size": "5"}, {})[1]["code"] == 0


def test_page_size_is_required_and_bounded(caller: Any) -> None:
    """page_size must be given, 1..100 for orders and 1..50 for returns."""
    for size, ok in ((None, False), ("0", False), ("100", True), ("101", False)):
        params = {} if size is None else {"page_size": size}
        assert (caller.call("POST", SEARCH, params, {})[1]["code"] == 0) is ok
    path = "/return_refund/202309/returns/search"
    assert caller.call("POST", path, {"page_size": "51"}, {})[1]["code"] == 36009004


def _page_all(caller: Any, body: dict[str, Any], **params: str) -> tuple[list[str], list[str]]:
    ids: list[str] = []
    tokens: list[str] = []
    token = ""
    while True:
        query = {"page_size": "100", **params, **({"page_token": token} if token else {})}
        data = caller.search(body, **query)
        ids += [o["id"] for o in data["orders"]]
        token = data["next_page_token"]
        if not token:
            return ids, tokens
        tokens.append(token)


def test_paging_ties_visits_every_order_once(caller: Any, tiktok: TikTokSimulator) -> None:
    """250 orders sharing one update_time page in stable id order; tokens carry + and /."""
    for n in range(250):
        tiktok.put_order("7495000000000000001", _order(f"5{n:017d}", 1_767_225_000))
    body = {"update_time_ge": 1_767_225_000, "update_time_lt": 1_767_225_001}
    ids, tokens = _page_all(caller, body, sort_field="update_time", sort_order="ASC")
    assert ids == [f"5{n:017d}" for n in range(250)]
    assert len(tokens) == 2 and all("+" in t and "/" in t for t in tokens)


def test_descending_by_create_time(caller: Any, tiktok: TikTokSimulator) -> None:
    """DESC by create_time returns newest first, ties broken by id."""
    for n, created in enumerate((10, 30, 20, 30)):
        tiktok.put_order("7495000000000000001", _order(f"57{n:016d}", 100, created))
    ids, _ = _page_all(caller, {}, page_size="2", sort_field="create_time", sort_order="DESC")
    assert ids == [
        "570000000000000003",
        "570000000000000001",
        "57" + "0" * 15 + "2",
        "57" + "0" * 16,
    ]


def test_unencoded_page_token_is_refused(caller: Any, tiktok: TikTokSimulator, http: Any) -> None:
    """A page token sent with a raw "+" arrives as a space: the call fails (a client bug)."""
    for n in range(3):
        tiktok.put_order("7495000000000000001", _order(f"5{n:017d}", 100))
    token = caller.search({}, page_size="1")["next_page_token"]
    query = {
        "app_key": "test-app",
        "timestamp": str(int(tiktok.clock())),
        "shop_cipher": "GCP_shop+cipher/1",
        "page_size": "1",
        "page_token": token,
    }
    query["sign"] = _signature(SEARCH, query, b"{}", "test-secret")
    raw_query = "&".join(f"{k}={v}" for k, v in query.items())  # no percent-encoding
    r = http.post(
        f"{tiktok.url}{SEARCH}?{raw_query}",
        data=b"{}",
        headers={"x-tts-access-token": caller.access_token},
    )
    assert r.json()["code"] in (106001, 36009004)


def test_token_from_another_query_is_refused(caller: Any, tiktok: TikTokSimulator) -> None:
    """A token is only good for the filters and sort that produced it."""
    for n in range(3):
        tiktok.put_order("7495000000000000001", _order(f"5{n:017d}", 100))
    token = caller.search({}, page_size="1")["next_page_token"]
    _, env = caller.call(
        "POST", SEARCH, {"page_size": "1", "page_token": token}, {"order_status": "X"}
    )
    assert env["code"] == 36009004 and "page_token" in env["message"]


def test_order_updated_while_paging_may_leave_the_window(
    caller: Any, tiktok: TikTokSimulator
) -> None:
    """An order whose update_time moves past the window during paging is not returned."""
    for n in range(4):
        tiktok.put_order("7495000000000000001", _order(f"5{n:017d}", 100 + n))
    body = {"update_time_ge": 100, "update_time_lt": 200}
    first = caller.search(body, page_size="2", sort_field="update_time", sort_order="ASC")
    tiktok.put_order("7495000000000000001", _order("500000000000000003", 250))
    rest = caller.search(
        body,
        page_size="2",
        sort_field="update_time",
        sort_order="ASC",
        page_token=first["next_page_token"],
    )
    assert [o["id"] for o in rest["orders"]] == ["500000000000000002"]
    assert rest["next_page_token"] == "" and rest["total_count"] == 3


def test_order_detail_by_ids(caller: Any, tiktok: TikTokSimulator) -> None:
    """Detail returns the known ids in the order asked, and refuses more than 50."""
    for n in range(3):
        tiktok.put_order("7495000000000000001", _order(f"5{n:017d}", 100))
    ids = "500000000000000002,500000000000000000,999"
    _, env = caller.call("GET", "/order/202309/orders", {"ids": ids})
    assert [o["id"] for o in env["data"]["orders"]] == ["500000000000000002", "500000000000000000"]
    many = ",".join(str(n) for n in range(51))
    assert caller.call("GET", "/order/202309/orders", {"ids": many})[1]["code"] == 36009004


def test_returns_search_filters_and_pages(caller: Any, tiktok: TikTokSimulator) -> None:
    """Returns page by update_time ASC and filter by status and order id."""
    for n in range(3):
        ret = {
            "return_id": f"40{n:016d}",
            "order_id": f"5{n:017d}",
            "return_status": "AWAITING_BUYER_SHIP" if n else "RETURN_OR_REFUND_REQUEST_CANCEL",
            "create_time": 100 + n,
            "update_time": 100 + n,
        }
        tiktok.put_return("7495000000000000001", ret)
    path = "/return_refund/202309/returns/search"
    query = {"page_size": "1", "sort_field": "update_time"}
    body = {"return_status": ["AWAITING_BUYER_SHIP"]}
    data = caller.call("POST", path, query, body)[1]["data"]
    assert [r["return_id"] for r in data["return_orders"]] == ["400000000000000001"]
    assert data["next_page_token"] and data["total_count"] == 2
    data = caller.call("POST", path, {"page_size": "5"}, {"order_ids": ["500000000000000000"]})[1]
    assert [r["return_id"] for r in data["data"]["return_orders"]] == ["400000000000000000"]


def test_per_endpoint_rate_limit(clock: ManualClock, http: requests.Session) -> None:
    """Over N calls a second on one endpoint: HTTP 429, code 36009002; others still pass."""
    sim = TikTokSimulator("k", "s", [("1", "c")], rate_limit_per_second=2, clock=clock)
    with sim:
        url = sim.url + "/api/v2/token/get"
        codes = [http.get(url).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        r = http.get(url)
        assert r.json()["code"] == 36009002 and r.headers["Retry-After"] == "1"
        assert http.get(sim.url + "/api/v2/token/refresh").json()["code"] == 36009004
        clock.advance(1)
        assert http.get(url).json()["code"] == 36009004
        assert sim.state()["rate_limited"] == 2


def test_state_endpoint_shows_orders_and_calls(
    caller: Any, tiktok: TikTokSimulator, http: Any
) -> None:
    """/_sandbox/state serves orders, returns and call counts as JSON."""
    tiktok.put_order("7495000000000000001", _order("500000000000000001", 100))
    caller.call("GET", SHOPS, shop=False)
    state = http.get(tiktok.url + "/_sandbox/state").json()
    assert [o["id"] for o in state["orders"]["7495000000000000001"]] == ["500000000000000001"]
    assert state["calls"]["GET /authorization/202309/shops"] == {"200": 1}
    assert state == tiktok.state()
