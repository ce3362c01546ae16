"""TikTok Shop Open API client: signed requests, retries, token refresh and paged searches."""

from __future__ import annotations

import collections
import contextlib
import itertools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import requests
import structlog
from tenacity import RetryCallState, Retrying

from sync_job.domain.errors import (
    AuthError,
    InvalidTimestamp,
    PermanentError,
    RemoteError,
    TokenExpired,
    TokenRevoked,
    TransientError,
)
from sync_job.domain.jsonutil import dumps
from sync_job.domain.model import Tokens, Window
from sync_job.domain.redact import scrub
from sync_job.net.deadline import request_bounded
from sync_job.net.http import environment_session
from sync_job.net.retrying import transient_retrying
from sync_job.tiktok.envelope import classify
from sync_job.tiktok.signing import sign, signed_params

ORDERS_SEARCH = "/order/202309/orders/search"
ORDERS_DETAIL = "/order/202309/orders"
RETURNS_SEARCH = "/return_refund/202309/returns/search"
AUTHORIZED_SHOPS = "/authorization/202309/shops"
WEBHOOKS = "/event/202309/webhooks"
TOKEN_REFRESH = "/api/v2/token/refresh"
TOKEN_GET = "/api/v2/token/get"
NO_TOKEN = "no TikTok access token yet: run `sync-job connect` to authorize the app"

ORDER_PAGE_SIZE = 100
# Paging-loop guard: pages allowed per window beyond what total_count explains (x2 + this), and
# an absolute cap for answers without a total (500,000 orders in one window at 100 a page).
PAGE_SLACK = 10
MAX_PAGES_PER_WINDOW = 5000
RETURN_PAGE_SIZE = 50
DETAIL_CHUNK = 50
# shop_cipher is rejected on these paths (they are app- or seller-scoped, not shop-scoped).
_UNSCOPED_PREFIXES = ("/authorization/", "/seller/")
# Expiry values are documented as absolute Unix times; anything this small can only be a relative
# "expires in" value, which read as absolute would look long expired and refresh on every call.
_RELATIVE_EXPIRY_LIMIT = 1_000_000_000
RECONNECT = "re-authorize the app: run `sync-job connect` again"
# Per call: take up another process's newer pair once, then refresh once.
MAX_RENEWALS = 2
# The refresh runs under the state DB's write lock, which other processes wait on for up to 30 s
# (busy_timeout): a refresh request never waits longer than this.
REFRESH_TIMEOUT_SECONDS = 20.0

_log = structlog.get_logger(__name__)


class TokenStore(Protocol):
    """Where refreshed tokens live between runs (the state database), shared by processes."""

    def load_tokens(self, app_key: str) -> Tokens | None:
        """Return the stored tokens for this app, or None if none were saved yet."""
        ...

    def save_tokens(self, app_key: str, tokens: Tokens) -> None:
        """Persist both tokens in one write."""
        ...

    def tokens_locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold the lock every process takes to write tokens, around a read-refresh-save."""
        ...


@dataclass(frozen=True)
class Page:
    """One page of search results; `total_count` is TikTok's estimate, for logs only."""

    items: list[dict[str, Any]]
    number: int
    total_count: int | None


class PageGuard:
    """Detects a search that pages in a loop: a repeated token, or far more pages than expected."""

    def __init__(self, path: str, page_size: int, *, cap: int | None = None) -> None:
        self.path = path
        self.page_size = page_size
        self.cap = MAX_PAGES_PER_WINDOW if cap is None else cap
        self.seen: set[str] = set()
        self.total = 0  # the largest total_count any page announced

    def limit(self) -> int:
        """How many pages this window may take: from total_count with slack, never above the cap."""
        if self.total <= 0:
            return self.cap
        expected = -(-self.total // self.page_size)
        return min(self.cap, 2 * expected + PAGE_SLACK)

    def check(self, page: Page, next_token: str) -> None:
        """Raise PermanentError when following `next_token` after `page` would loop."""
        self.total = max(self.total, page.total_count or 0)
        if next_token in self.seen:
            raise PermanentError(
                f"TikTok {self.path}: paging loop: next_page_token on page {page.number} "
                "was already used in this window; the cursor stays where it was"
            )
        self.seen.add(next_token)
        if page.number >= self.limit():
            raise PermanentError(
                f"TikTok {self.path}: paging loop: still more pages after page {page.number} "
                f"(total_count {self.total or 'not given'}, limit {self.limit()} pages); "
                "the cursor stays where it was"
            )


@dataclass(frozen=True)
class _Request:
    """One logical API call; it is stamped and signed afresh on every attempt."""

    method: str
    path: str
    query: Mapping[str, str]
    body: bytes | None
    shop_cipher: str | None


@dataclass
class _Recovery:
    """The once-per-call recoveries already spent (token refresh, re-stamp).

    A refused token leads to a renewal: take up a newer stored pair, else refresh. At most
    MAX_RENEWALS per call, and none after a refresh this call made itself.
    """

    refreshed: bool = False
    refresh_pending: bool = False
    renewals: int = 0
    restamped: bool = False


class TikTokClient:
    """Talks to the TikTok Shop Open API; every failure leaves as a sync_job.domain.errors class."""

    def __init__(  # noqa: PLR0913  # keyword-only settings, each from the config
        self,
        *,
        base_url: str,
        auth_url: str,
        app_key: str,
        app_secret: str,
        initial_tokens: Tokens,
        token_store: TokenStore,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 6,
        max_backoff: float = 60.0,
        refresh_margin_seconds: int = 86400,
        max_pages_per_window: int = MAX_PAGES_PER_WINDOW,
    ) -> None:
        """Set up the client; tokens saved in `token_store` win over `initial_tokens`."""
        self._base_url = base_url.rstrip("/")
        self._auth_url = auth_url.rstrip("/")
        self._app_key = app_key
        self._app_secret = app_secret
        self._token_store = token_store
        self._tokens = token_store.load_tokens(app_key) or initial_tokens
        # The access token this client itself obtained last: never proactively refreshed again.
        self._obtained_access_token: str | None = None
        self._session = session or environment_session(self._base_url, self._auth_url)
        self._timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._max_backoff = max_backoff
        self._refresh_margin = refresh_margin_seconds
        self._max_pages = max_pages_per_window
        self.calls: collections.Counter[str] = collections.Counter()

    # -- public API -------------------------------------------------------------------------

    def iter_orders(self, shop_cipher: str, window: Window) -> Iterator[Page]:
        """Yield pages of orders updated in `window`, oldest update first."""
        return self._search(ORDERS_SEARCH, "orders", ORDER_PAGE_SIZE, shop_cipher, window)

    def recent_orders(self, shop_cipher: str, since: int, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` (1-100) orders updated since `since`, newest first: one search call."""
        query = {
            "page_size": str(max(1, min(limit, ORDER_PAGE_SIZE))),
            "sort_field": "update_time",
            "sort_order": "DESC",
        }
        body = dumps({"update_time_ge": since}).encode()
        data = self._call("POST", ORDERS_SEARCH, query, body=body, shop_cipher=shop_cipher)
        return _items(data, "orders", ORDERS_SEARCH)[:limit]

    def iter_returns(self, shop_cipher: str, window: Window) -> Iterator[Page]:
        """Yield pages of returns updated in `window`, oldest update first."""
        return self._search(RETURNS_SEARCH, "return_orders", RETURN_PAGE_SIZE, shop_cipher, window)

    def fetch_orders(self, shop_cipher: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Fetch the current detail of these orders (in chunks of 50 ids)."""
        if isinstance(ids, str):
            raise TypeError("ids must be a sequence of order ids, not one string")
        unique = list(dict.fromkeys(ids))
        orders: list[dict[str, Any]] = []
        for start in range(0, len(unique), DETAIL_CHUNK):
            query = {"ids": ",".join(unique[start : start + DETAIL_CHUNK])}
            data = self._call("GET", ORDERS_DETAIL, query, shop_cipher=shop_cipher)
            orders.extend(_items(data, "orders", ORDERS_DETAIL))
        return orders

    def fetch_authorized_shops(self) -> list[dict[str, Any]]:
        """List the shops this app is authorized for (id, cipher, name, region, ...)."""
        data = self._call("GET", AUTHORIZED_SHOPS, {})
        return _items(data, "shops", AUTHORIZED_SHOPS)

    def subscribe_webhook(self, address: str, event_type: str) -> None:
        """Point one event type's webhook at `address` (replacing its previous address)."""
        body = dumps({"address": address, "event_type": event_type}).encode()
        self._call("PUT", WEBHOOKS, {}, body=body)

    def list_webhooks(self) -> list[dict[str, Any]]:
        """The webhooks subscribed now (event_type, address, ...)."""
        return _items(self._call("GET", WEBHOOKS, {}), "webhooks", WEBHOOKS)

    def exchange_auth_code(self, auth_code: str) -> Tokens:
        """Trade a shop's authorization code for a token pair, save it, then start using it."""
        query = {
            "app_key": self._app_key,
            "app_secret": self._app_secret,
            "auth_code": auth_code,
            "grant_type": "authorized_code",
        }
        url = f"{self._auth_url}{TOKEN_GET}?{_encode_query(query)}"
        # One attempt: the code is single-use, so a repeat after a lost answer would be refused.
        try:
            data = self._exchange("GET", TOKEN_GET, url, None, {})
        except TransientError:
            raise
        except RemoteError as exc:
            raise AuthError(
                f"TikTok refused the authorization code: {exc}", status=exc.status, code=exc.code
            ) from exc
        tokens = self._tokens_from(data)
        self._token_store.save_tokens(self._app_key, tokens)
        self._tokens = tokens
        self._obtained_access_token = tokens.access_token
        return tokens

    def refresh_tokens(self) -> Tokens:
        """Renew the pair (or take up a newer stored one), save it, then start using it."""
        self._retrying()(self._renew)
        return self._tokens

    # -- paging -----------------------------------------------------------------------------

    def _search(
        self, path: str, key: str, page_size: int, shop_cipher: str, window: Window
    ) -> Iterator[Page]:
        """Page through a search sorted by update_time ascending until next_page_token is empty.

        A token seen before in this window, or more pages than the window's `total_count` can
        explain, is a paging loop on TikTok's side: it ends the search (and so the run) with a
        PermanentError instead of paging for ever.
        """
        if window.start == window.end:
            return
        body = dumps({"update_time_ge": window.start, "update_time_lt": window.end}).encode()
        token = ""  # lives only in this generator: page tokens are never persisted
        guard = PageGuard(path, page_size, cap=self._max_pages)
        for number in itertools.count(1):
            query = {
                "page_size": str(page_size),
                "sort_field": "update_time",
                "sort_order": "ASC",
                "page_token": token,  # empty on the first page, so dropped from the request
            }
            data = self._call("POST", path, query, body=body, shop_cipher=shop_cipher)
            page = Page(_items(data, key, path), number, _total_count(data))
            yield page
            next_token = data.get("next_page_token")
            if not next_token:
                return
            token = str(next_token)
            guard.check(page, token)

    # -- one logical call -------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        *,
        body: bytes | None = None,
        shop_cipher: str | None = None,
    ) -> dict[str, Any]:
        """Make one API call with retries; return the envelope's `data`."""
        request = _Request(method, path, dict(query), body, shop_cipher)
        return self._retrying()(self._attempt, request, _Recovery())

    def _retrying(self) -> Retrying:
        """The shared retry policy (sync_job.net.retrying), logging each retry."""
        return transient_retrying(
            max_attempts=self._max_attempts,
            max_backoff=self._max_backoff,
            sleep=self._sleep,
            before_sleep=_log_retry,
        )

    def _attempt(self, request: _Request, recovery: _Recovery) -> dict[str, Any]:
        """Send once, spending at most one token refresh and one re-stamp per logical call."""
        if not self._tokens.access_token and not self._tokens.refresh_token:
            raise AuthError(NO_TOKEN)
        while True:  # bounded: each except branch below can continue the loop only once
            if recovery.refresh_pending or self._expiring():
                refreshed = self._renew()
                recovery.refreshed |= refreshed and recovery.refresh_pending
                recovery.refresh_pending = False
            try:
                return self._send_signed(request)
            except (TokenExpired, TokenRevoked) as exc:
                if recovery.refreshed or recovery.renewals >= MAX_RENEWALS:
                    raise AuthError(
                        f"{exc}; still refused after a refresh: {RECONNECT}",
                        status=exc.status,
                        code=exc.code,
                    ) from exc
                recovery.renewals += 1
                recovery.refresh_pending = True
            except InvalidTimestamp:
                if recovery.restamped:
                    raise
                recovery.restamped = True
                _log.warning("tiktok timestamp refused, re-stamping", path=request.path)

    def _expiring(self, tokens: Tokens | None = None) -> bool:
        """Tell whether the access token's known expiry is within the refresh margin."""
        tokens = tokens or self._tokens
        if tokens.access_expires_at == 0 or tokens.access_token == self._obtained_access_token:
            return False
        return tokens.access_expires_at - self._clock() <= self._refresh_margin

    def _send_signed(self, request: _Request) -> dict[str, Any]:
        """Stamp, sign and send one attempt of a request."""
        params = {**request.query, "app_key": self._app_key, "timestamp": str(int(self._clock()))}
        if request.shop_cipher and not request.path.startswith(_UNSCOPED_PREFIXES):
            params["shop_cipher"] = request.shop_cipher
        params = signed_params(params)  # empty values are dropped from the request too
        params["sign"] = sign(request.path, params, request.body, self._app_secret)
        url = f"{self._base_url}{request.path}?{_encode_query(params)}"
        headers = {
            "content-type": "application/json",
            "x-tts-access-token": self._tokens.access_token,
        }
        return self._exchange(request.method, request.path, url, request.body, headers)

    def _exchange(
        self,
        method: str,
        path: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send one HTTP request and classify what came back (never logs or raises the URL)."""
        self.calls[path] += 1
        outcome: requests.Response | requests.RequestException
        try:
            outcome = request_bounded(
                self._session,
                method,
                url,
                data=body,
                headers=dict(headers),
                timeout=timeout or self._timeout,
            )
        except requests.RequestException as exc:
            outcome = exc
        # Classified outside the except block so the requests exception (whose text holds the
        # URL, and on token calls the app_secret) is not chained onto the error we raise.
        return classify(path, outcome, now=self._clock(), scrub=self._scrub)

    # -- tokens -----------------------------------------------------------------------------

    def _renew(self) -> bool:
        """Re-read the stored pair under the token lock; refresh unless another process did.

        Returns True when this call spent the refresh token, False when it took up a newer pair
        another process (once, backfill, connect) had stored. Read, refresh and save happen under
        one write lock, so two processes never both spend one refresh token.
        """
        with self._token_store.tokens_locked():
            stored = self._token_store.load_tokens(self._app_key)
            if stored is not None and _pair(stored) != _pair(self._tokens):
                self._tokens = stored
                _log.info("tiktok tokens re-read", access_expires_at=stored.access_expires_at)
                if not self._expiring(stored):
                    return False
            self._refresh_once()
        return True

    def _refresh_once(self) -> Tokens:
        """Make one refresh request; save the new pair before anything uses it."""
        tokens = self._tokens_from(self._request_refresh())
        self._token_store.save_tokens(self._app_key, tokens)
        self._tokens = tokens
        self._obtained_access_token = tokens.access_token
        _log.info(
            "tiktok tokens refreshed",
            access_expires_at=tokens.access_expires_at,
            refresh_expires_at=tokens.refresh_expires_at,
        )
        return tokens

    def _request_refresh(self) -> dict[str, Any]:
        """Ask the token host for a new pair; a refusal (not a hiccup) is an AuthError."""
        query = {
            "app_key": self._app_key,
            "app_secret": self._app_secret,
            "refresh_token": self._tokens.refresh_token,
            "grant_type": "refresh_token",
        }
        url = f"{self._auth_url}{TOKEN_REFRESH}?{_encode_query(query)}"
        try:
            timeout = min(self._timeout, REFRESH_TIMEOUT_SECONDS)
            return self._exchange("GET", TOKEN_REFRESH, url, None, {}, timeout)
        except TransientError:
            raise
        except RemoteError as exc:
            raise AuthError(
                f"token refresh refused: {RECONNECT}: {exc}",
                status=exc.status,
                code=exc.code,
            ) from exc

    def _tokens_from(self, data: Mapping[str, Any]) -> Tokens:
        """Build Tokens from a refresh answer, keeping the old refresh token if none came back."""
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise AuthError("TikTok token answer carried no access_token")
        refresh = data.get("refresh_token")
        now = int(self._clock())
        return Tokens(
            access_token=access,
            access_expires_at=_expiry(data.get("access_token_expire_in"), now),
            refresh_token=refresh
            if isinstance(refresh, str) and refresh
            else self._tokens.refresh_token,
            refresh_expires_at=_expiry(data.get("refresh_token_expire_in"), now),
        )

    def _scrub(self, text: str) -> str:
        """Blank out the app secret and tokens wherever a server echoes them back."""
        tokens = self._tokens
        return scrub(text, (self._app_secret, tokens.access_token, tokens.refresh_token))


def _pair(tokens: Tokens) -> tuple[str, str]:
    """The two token values, to compare pairs (expiry times aside)."""
    return tokens.access_token, tokens.refresh_token


def _encode_query(params: Mapping[str, str]) -> str:
    """Percent-encode every key and value, `+`, `/` and `,` included (raw values are signed)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params.items()))


def _items(data: Mapping[str, Any], key: str, path: str) -> list[dict[str, Any]]:
    """Return `data[key]` as a list of objects; a missing list is empty, a malformed one fatal."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PermanentError(f"TikTok {path}: data.{key} is not a list of objects")
    return value


def _total_count(data: Mapping[str, Any]) -> int | None:
    """Return the page's total_count when it is an integer."""
    value = data.get("total_count")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _expiry(value: Any, now: int) -> int:
    """Read an expiry as absolute Unix seconds; 0 when unknown."""
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return 0
    if seconds <= 0:
        return 0
    return seconds + now if seconds < _RELATIVE_EXPIRY_LIMIT else seconds


def _log_retry(state: RetryCallState) -> None:
    """Log a retry that is about to sleep (the error text carries path, code and request_id)."""
    error = state.outcome.exception() if state.outcome else None
    _log.warning(
        "tiktok call retrying",
        attempt=state.attempt_number,
        wait=round(state.upcoming_sleep, 3),
        error=str(error),
    )
