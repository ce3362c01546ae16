"""A TikTok Shop Open API simulator (202309 orders and returns, authorization, tokens)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from sync_job.sandbox import paging
from sync_job.sandbox import tiktok_params as params
from sync_job.sandbox.faults import Fault, FaultConfig, FaultInjector, apply_fault, outcome_name
from sync_job.sandbox.ratelimit import FixedWindow
from sync_job.sandbox.server import (
    CallCounter,
    LoopbackServer,
    Request,
    Response,
    html_response,
    json_response,
)
from sync_job.sandbox.tiktok_params import (
    CODE_BAD_SIGNATURE,
    CODE_CATCH_ALL,
    CODE_INTERNAL,
    CODE_RATE_LIMITED,
    ApiError,
)
from sync_job.sandbox.tiktok_tokens import TokenBook, TokenError
from sync_job.sandbox.webhooks import WebhookSender

Scope = Literal["shop", "app", "token"]
Handler = Callable[[Request, str], Any]

_MAX_BEHIND, _MAX_AHEAD = 300, 30  # accepted timestamp skew, seconds
EVENT_TYPES = (
    "ORDER_STATUS_CHANGE",
    "CANCELLATION_STATUS_CHANGE",
    "RETURN_STATUS_CHANGE",
    "PACKAGE_UPDATE",
    "PRODUCT_STATUS_CHANGE",
)
AUTHORIZE_PATH = "/open/authorize"  # the seller's authorization page (services.tiktokshop.com)
AUTH_CODE_LIFETIME_SECONDS = 600  # auth codes are short-lived and single-use


def _signature(path: str, query: Mapping[str, str], body: bytes | None, app_secret: str) -> str:
    """Compute the TikTok Shop request signature (server side, independent of the client's)."""
    pairs = sorted(
        (k, v) for k, v in query.items() if k not in ("sign", "access_token") and v != ""
    )
    text = path + "".join(k + v for k, v in pairs)
    wrapped = app_secret.encode() + text.encode() + (body or b"") + app_secret.encode()
    return hmac.new(app_secret.encode(), wrapped, hashlib.sha256).hexdigest()


class TikTokSimulator(LoopbackServer):
    """Serves orders and returns for a set of shops over the real TikTok Shop contract."""

    def __init__(  # noqa: PLR0913  # a simulator's knobs, each with a default
        self,
        app_key: str,
        app_secret: str,
        shops: list[tuple[str, str]],
        *,
        access_token: str = "sandbox-access-token",
        refresh_token: str = "sandbox-refresh-token",
        token_lifetime_seconds: float = 7 * 86400,
        refresh_token_lifetime_seconds: float = 365 * 86400,
        faults: FaultConfig | None = None,
        rate_limit_per_second: int | None = 50,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
        seller_name: str = "Sandbox Seller",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host=host, port=port)
        self.app_key, self.app_secret = app_key, app_secret
        self.clock = clock
        self.calls = CallCounter()
        self.faults = FaultInjector(faults)
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._shops = {shop_id: cipher for shop_id, cipher in shops}
        self._orders: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in self._shops}
        self._returns: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in self._shops}
        self._rate_limit = rate_limit_per_second
        self._windows: dict[str, FixedWindow] = {}
        self._tokens = TokenBook(
            self._rng,
            access_lifetime=token_lifetime_seconds,
            refresh_lifetime=refresh_token_lifetime_seconds,
            open_id="sandbox-open-id",
            seller_name=seller_name,
        )
        self._tokens.add(access_token, refresh_token, clock())
        self._auth_codes: dict[str, float] = {}  # auth_code -> expiry (unix seconds)
        self._routes = self._route_table()
        # Called with the shop id after each order-search page is cut (tests change data mid-page).
        self.on_orders_page: Callable[[str], None] | None = None
        # Set to send TikTok's webhooks (status change, line cancelled, return) to a receiver.
        self.webhooks: WebhookSender | None = None
        self.subscriptions: dict[str, str] = {}  # event type -> address (PUT /event/.../webhooks)

    def _route_table(self) -> dict[tuple[str, str], tuple[Scope, Handler]]:
        # scope: "shop" = signed + shop_cipher, "app" = signed without it, "token" = unsigned
        return {
            ("POST", "/order/202309/orders/search"): ("shop", self._search_orders),
            ("GET", "/order/202309/orders"): ("shop", self._order_detail),
            ("POST", "/return_refund/202309/returns/search"): ("shop", self._search_returns),
            ("GET", "/authorization/202309/shops"): ("app", self._authorized_shops),
            ("PUT", "/event/202309/webhooks"): ("app", self._put_webhook),
            ("GET", "/event/202309/webhooks"): ("app", self._list_webhooks),
            ("GET", "/api/v2/token/get"): ("token", self._token_get),
            ("GET", "/api/v2/token/refresh"): ("token", self._token_refresh),
        }

    # ----- data access for tests and the generator -------------------------------------------

    def put_order(self, shop_id: str, order: Mapping[str, Any]) -> None:
        """Create or replace an order (a deep copy is stored)."""
        _require(order, ("id", "status", "create_time", "update_time"))
        with self._lock:
            orders = self._shop_orders(shop_id)
            before = orders.get(str(order["id"]))
            orders[str(order["id"])] = copy.deepcopy(dict(order))
        if self.webhooks is not None:
            for kind in _order_events(before, order):
                self.webhooks.notify(shop_id, kind, str(order["id"]), str(order["status"]))

    def put_return(self, shop_id: str, ret: Mapping[str, Any]) -> None:
        """Create or replace a return record (a deep copy is stored)."""
        _require(ret, ("return_id", "order_id", "return_status", "create_time", "update_time"))
        with self._lock:
            returns = self._shop_returns(shop_id)
            before = returns.get(str(ret["return_id"]))
            returns[str(ret["return_id"])] = copy.deepcopy(dict(ret))
        if (
            self.webhooks is not None
            and (before or {}).get("return_status") != ret["return_status"]
        ):
            order = self.order(shop_id, str(ret["order_id"])) or {"status": ""}
            self.webhooks.notify(shop_id, 12, str(ret["order_id"]), str(order["status"]))

    def orders(self, shop_id: str) -> list[dict[str, Any]]:
        """Copies of a shop's orders, oldest first."""
        with self._lock:
            return _sorted_copies(self._shop_orders(shop_id).values(), "id")

    def order(self, shop_id: str, order_id: str) -> dict[str, Any] | None:
        """A copy of one order, or None."""
        with self._lock:
            found = self._shop_orders(shop_id).get(order_id)
            return copy.deepcopy(found) if found is not None else None

    def returns(self, shop_id: str) -> list[dict[str, Any]]:
        """Copies of a shop's return records, oldest first."""
        with self._lock:
            return _sorted_copies(self._shop_returns(shop_id).values(), "return_id")

    def state(self) -> dict[str, Any]:
        """Everything the simulator holds, as JSON-ready data (also at GET /_sandbox/state)."""
        with self._lock:
            return {
                "shops": [{"id": s, "cipher": c} for s, c in self._shops.items()],
                "orders": {s: self.orders(s) for s in self._shops},
                "returns": {s: self.returns(s) for s in self._shops},
                "calls": self.calls.snapshot(),
                "rate_limited": self.calls.count(outcome="429"),
            }

    @property
    def tokens(self) -> tuple[str, str]:
        """The latest (access_token, refresh_token) issued."""
        with self._lock:
            return self._tokens.current

    def issue_auth_code(self) -> str:
        """A fresh single-use auth_code, as the seller's redirect after authorizing would carry."""
        with self._lock:
            code = "sandbox-auth-" + self._rng.randbytes(8).hex()
            self._auth_codes[code] = self.clock() + AUTH_CODE_LIFETIME_SECONDS
            return code

    def expire_access_token(self) -> None:
        """Make every access token issued so far expire now (refresh tokens stay valid)."""
        with self._lock:
            self._tokens.expire_access(self.clock())

    def reauthorize(self) -> tuple[str, str]:
        """Revoke every earlier token and issue a new (access, refresh) pair: a re-authorization."""
        with self._lock:
            self._tokens.revoke_all()
            data = self._tokens.issue(self.clock())
            return data["access_token"], data["refresh_token"]

    def set_faults(self, faults: FaultConfig) -> None:
        """Switch fault injection to a new configuration."""
        self.faults.configure(faults)

    def _shop_orders(self, shop_id: str) -> dict[str, dict[str, Any]]:
        if shop_id not in self._orders:
            raise KeyError(f"unknown shop {shop_id!r}")
        return self._orders[shop_id]

    def _shop_returns(self, shop_id: str) -> dict[str, dict[str, Any]]:
        if shop_id not in self._returns:
            raise KeyError(f"unknown shop {shop_id!r}")
        return self._returns[shop_id]

    # ----- HTTP ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response | None:
        """Answer one call: inspection, rate limit, faults, then the endpoint."""
        if request.path.startswith("/_sandbox/"):
            found = request.path == "/_sandbox/state"
            return json_response(200, self.state()) if found else json_response(404, {})
        if request.path == AUTHORIZE_PATH:
            return self._authorize_page(request)
        fault = Fault.NONE
        response: Response | None = self._over_rate_limit(request)
        if response is None:
            fault = self.faults.draw(request, write=False)
            slow = self.faults.config.slow_seconds
            response = apply_fault(
                fault, lambda: self._answer(request), self._refuse, self.stopping, slow
            )
        self.calls.record(request.endpoint, outcome_name(fault, response))
        return response

    def _over_rate_limit(self, request: Request) -> Response | None:
        if self._rate_limit is None:
            return None
        with self._lock:
            window = self._windows.get(request.endpoint)
            if window is None:
                window = FixedWindow(self._rate_limit, 1.0, self.clock)
                self._windows[request.endpoint] = window
        if window.admit().allowed:
            return None
        return self._envelope(
            429, CODE_RATE_LIMITED, "Too many requests", headers={"Retry-After": "1"}
        )

    def _refuse(self, fault: Fault) -> Response:
        if fault is Fault.RATE_LIMITED:
            wait = str(self.faults.config.retry_after_seconds)
            return self._envelope(
                429, CODE_RATE_LIMITED, "Too many requests", headers={"Retry-After": wait}
            )
        return self._envelope(500, CODE_INTERNAL, "Internal error, please retry later")

    def _answer(self, request: Request) -> Response:
        route = self._routes.get((request.method, request.path))
        if route is None:
            message = f"no such API: {request.method} {request.path}"
            return self._envelope(404, CODE_CATCH_ALL, message)
        scope, handler = route
        try:
            with self._lock:
                shop_id = self._authenticate(request, scope)
                data = handler(request, shop_id)
        except ApiError as err:
            # The auth host answers its errors with HTTP 200: only `code` tells (as the spec warns).
            status = 200 if scope == "token" else err.status
            return self._envelope(status, err.code, err.message)
        # The auth host says "success" in lower case, the API host "Success".
        return self._envelope(200, 0, "success" if scope == "token" else "Success", data)

    def _envelope(
        self,
        status: int,
        code: int,
        message: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        with self._lock:
            request_id = f"{int(self.clock())}{self._rng.getrandbits(48):014X}"
        payload = {"code": code, "message": message, "request_id": request_id, "data": data}
        return json_response(status, payload, headers)

    # ----- checks ----------------------------------------------------------------------------

    def _authenticate(self, request: Request, scope: Scope) -> str:
        """Check app key, signature, timestamp, token and shop cipher; return the shop id or ""."""
        if scope == "token":
            return ""
        query = request.query
        if query.get("app_key") != self.app_key:
            raise ApiError(401, CODE_CATCH_ALL, "invalid app_key")
        if not query.get("sign"):
            raise ApiError(401, CODE_CATCH_ALL, "missing sign")
        self._check_timestamp(query.get("timestamp", ""))
        multipart = "multipart" in request.headers.get("content-type", "")
        expected = _signature(
            request.path, query, None if multipart else request.body, self.app_secret
        )
        if not hmac.compare_digest(expected, query["sign"]):
            raise ApiError(401, CODE_BAD_SIGNATURE, "Invalid signature")
        try:
            self._tokens.check(request.headers.get("x-tts-access-token"), self.clock())
        except TokenError as err:
            raise ApiError(401, err.code, err.message) from err
        return self._shop_for(query.get("shop_cipher", ""), scope)

    def _check_timestamp(self, raw: str) -> None:
        if not raw.isdigit():
            raise params.bad_request("invalid timestamp: missing or not a number")
        skew = int(raw) - self.clock()
        if skew < -_MAX_BEHIND or skew > _MAX_AHEAD:
            raise params.bad_request(f"invalid timestamp: {raw} is out of the allowed range")

    def _shop_for(self, cipher: str, scope: Scope) -> str:
        if scope == "app":
            if cipher:
                raise params.bad_request("shop_cipher is not allowed on this path")
            return ""
        if not cipher:
            raise params.bad_request("shop_cipher is required")
        for shop_id, known in self._shops.items():
            if known == cipher:
                return shop_id
        raise params.bad_request("invalid shop_cipher")

    # ----- endpoints -------------------------------------------------------------------------

    def _search_orders(self, request: Request, shop_id: str) -> dict[str, Any]:
        body = params.json_body(request)
        bounds = params.time_filters(body)
        status = body.get("order_status")
        items = [
            o
            for o in self._orders[shop_id].values()
            if params.in_window(o, bounds) and status in (None, o.get("status"))
        ]
        sort = params.sorting(request.query, 100, "DESC")
        bound = paging.binding("orders", *sort[1:], {**bounds, "order_status": status})
        page, token = self._page(request, items, "id", sort, bound)
        if self.on_orders_page is not None:
            self.on_orders_page(shop_id)
        return {"orders": page, "next_page_token": token, "total_count": len(items)}

    def _search_returns(self, request: Request, shop_id: str) -> dict[str, Any]:
        body = params.json_body(request)
        bounds, lists = params.time_filters(body), params.list_filters(body)
        items = [
            r
            for r in self._returns[shop_id].values()
            if params.in_window(r, bounds) and params.in_lists(r, lists)
        ]
        sort = params.sorting(request.query, 50, "ASC")
        bound = paging.binding("returns", *sort[1:], {**bounds, **lists})
        page, token = self._page(request, items, "return_id", sort, bound)
        return {"return_orders": page, "next_page_token": token, "total_count": len(items)}

    def _page(
        self,
        request: Request,
        items: list[dict[str, Any]],
        id_field: str,
        sort: tuple[int, str, str],
        bound: str,
    ) -> tuple[list[dict[str, Any]], str]:
        """Cut one keyset page; return (copies of its items, next_page_token or "")."""
        size, field, order = sort
        after = None
        if request.query.get("page_token"):
            try:
                after = paging.decode_token(request.query["page_token"], bound)
            except paging.PageTokenError as err:
                raise params.bad_request(str(err)) from err
        page, position = paging.paginate(
            items,
            sort_field=field,
            descending=order == "DESC",
            id_field=id_field,
            page_size=size,
            after=after,
        )
        token = paging.encode_token(position, bound, self._rng) if position else ""
        return [copy.deepcopy(dict(i)) for i in page], token

    def _order_detail(self, request: Request, shop_id: str) -> dict[str, Any]:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not ids:
            raise params.bad_request("ids is required")
        if len(ids) > 50:
            raise params.bad_request("ids: at most 50 order ids per call")
        orders = self._orders[shop_id]
        return {"orders": [copy.deepcopy(orders[i]) for i in ids if i in orders]}

    def _authorized_shops(self, request: Request, shop_id: str) -> dict[str, Any]:
        shops = [
            {
                "id": sid,
                "cipher": cipher,
                "code": f"IDLC{n:06d}",
                "name": f"Sandbox Shop {n}",
                "region": "ID",
                "seller_type": "LOCAL",
            }
            for n, (sid, cipher) in enumerate(self._shops.items(), start=1)
        ]
        return {"shops": shops}

    def _authorize_page(self, request: Request) -> Response:
        """The seller approves at once; the page shows the redirect a real one would make."""
        if not request.query.get("service_id"):
            return html_response(400, "<p>service_id is required</p>")
        code = self.issue_auth_code()
        redirect = f"https://your-redirect-url.example/?code={code}&state=sandbox"
        page = (
            "<h1>Sandbox TikTok Shop: app authorized</h1>"
            f"<p>A real seller would now be redirected to:</p><pre>{redirect}</pre>"
            f"<p>Finish with: <code>sync-job connect --code {code}</code></p>"
        )
        return html_response(200, page)

    def _put_webhook(self, request: Request, shop_id: str) -> dict[str, Any]:
        body = params.json_body(request)
        event, address = body.get("event_type"), body.get("address")
        if event not in EVENT_TYPES:
            raise params.bad_request(f"event_type: unknown event type {event!r}")
        if not isinstance(address, str) or not address.startswith(("https://", "http://")):
            raise params.bad_request("address: must be an http(s) URL")
        self.subscriptions[event] = address
        return {}

    def _list_webhooks(self, request: Request, shop_id: str) -> dict[str, Any]:
        now = int(self.clock())
        return {
            "webhooks": [
                {"event_type": e, "address": a, "create_time": now, "update_time": now}
                for e, a in sorted(self.subscriptions.items())
            ]
        }

    def _token_get(self, request: Request, shop_id: str) -> dict[str, Any]:
        self._check_app_credentials(request.query, "authorized_code")
        code = request.query.get("auth_code", "")
        if not code:
            raise params.bad_request("auth_code is required")
        expiry = self._auth_codes.pop(code, None)  # single-use: gone whether or not it is valid
        if expiry is None or self.clock() >= expiry:
            raise ApiError(400, CODE_CATCH_ALL, "invalid auth_code: unknown, used or expired")
        return self._tokens.issue(self.clock())

    def _token_refresh(self, request: Request, shop_id: str) -> dict[str, Any]:
        self._check_app_credentials(request.query, "refresh_token")
        try:
            return self._tokens.rotate(request.query.get("refresh_token", ""), self.clock())
        except TokenError as err:
            raise ApiError(400, err.code, err.message) from err

    def _check_app_credentials(self, query: Mapping[str, str], grant_type: str) -> None:
        if query.get("app_key") != self.app_key or query.get("app_secret") != self.app_secret:
            raise ApiError(401, CODE_CATCH_ALL, "invalid app_key or app_secret")
        if query.get("grant_type") != grant_type:
            raise params.bad_request(f"grant_type must be {grant_type}")


def _cancelled_lines(order: Mapping[str, Any] | None) -> int:
    lines = (order or {}).get("line_items") or []
    return sum(1 for line in lines if line.get("display_status") == "CANCELLED")


def _order_events(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[int]:
    """The webhook types TikTok sends for this change: 1 status change, 11 a line cancelled."""
    events = []
    if before is None or before.get("status") != after.get("status"):
        events.append(1)
    if after.get("status") != "CANCELLED" and _cancelled_lines(after) > _cancelled_lines(before):
        events.append(11)
    return events


def _require(record: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if k not in record]
    if missing:
        raise ValueError(f"record lacks {missing}")


def _sorted_copies(items: Any, id_field: str) -> list[dict[str, Any]]:
    ordered = sorted(
        items, key=lambda i: (int(i["create_time"]), len(str(i[id_field])), str(i[id_field]))
    )
    return copy.deepcopy(ordered)
