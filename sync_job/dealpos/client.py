"""DealPOS API v3 client: OAuth2 token, paced calls, and the invoice operations this job needs.

The client never retries, except once after a 401 with a fresh token; the outbox pusher retries
by error class (see `classify.py`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
import structlog

from sync_job.dealpos import wire
from sync_job.dealpos.classify import Endpoint, Outcome, classify, retry_after_hint
from sync_job.dealpos.pacer import Pacer
from sync_job.dealpos.stats import CallStats
from sync_job.dealpos.wire import CreatedInvoice, InvoiceView
from sync_job.domain import jsonutil
from sync_job.domain.errors import AuthError, NotFound, PermanentError
from sync_job.domain.invoice import InvoiceDraft
from sync_job.net.deadline import request_bounded
from sync_job.net.http import environment_session

__all__ = ["DealposClient"]

_log = structlog.get_logger(__name__)

# Drop the cached token this long before DealPOS says it expires, so no call carries a dying token.
_TOKEN_EARLY_SECONDS = 60.0
# A reachable host accepts a connection in well under this; waiting longer only delays the retry.
_CONNECT_TIMEOUT_CAP = 10.0
_API_PREFIX = "/api/v3"
_TOKENS_SCRUBBED = 4


def _has_token(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and isinstance(body.get("access_token"), str)
        and bool(body["access_token"])
    )


_TOKEN = Endpoint("token", "POST", f"{_API_PREFIX}/Token/OAuth2", _has_token, repeatable=True)
_CREATE = Endpoint(
    "create_invoice", "POST", f"{_API_PREFIX}/Invoice", wire.is_created, creates=True
)
_SEND = Endpoint("send_invoice", "POST", f"{_API_PREFIX}/OutboundLogistic", wire.is_sent)
_PAY = Endpoint(
    "pay_in_full", "POST", f"{_API_PREFIX}/Payment/Invoice/AddPaymentFull", wire.is_paid
)
_DELETE = Endpoint("delete_invoice", "DELETE", f"{_API_PREFIX}/Invoice", wire.is_deleted)
# A lookup's 200 must show a readable invoice: an empty or foreign object (a proxy's, a login
# page's JSON), or one without payment and delivery fields, is a bad body, never a default state.
_FIND = Endpoint(
    "find_invoice", "GET", f"{_API_PREFIX}/Invoice/Detail", wire.is_invoice, repeatable=True
)
_LIST = Endpoint(
    "list_invoices",
    "POST",
    f"{_API_PREFIX}/Invoice/MultipleOutlet",
    wire.is_invoice_list,
    repeatable=True,  # a read, though it is a POST
)


class DealposClient:
    """Talks to one DealPOS tenant: every call paced, timed out, logged, counted, classified."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        pacer: Pacer,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = _tenant_root(base_url)
        self._client_id = client_id
        self._client_secret = client_secret
        self._pacer = pacer
        self._session = session if session is not None else environment_session(base_url)
        self._timeout = (min(timeout, _CONNECT_TIMEOUT_CAP), timeout)
        self._clock = clock
        self._token: str | None = None
        self._token_expires = -math.inf
        # Texts scrubbed from every error: the secret and the latest tokens (only those can be
        # echoed back). A tuple, replaced whole, so other threads may read it without a lock.
        self._secrets: tuple[str, ...] = (client_secret,)
        self._token_lock = threading.Lock()
        self.stats = CallStats()

    def __repr__(self) -> str:
        return f"DealposClient(base_url={self._base!r}, client_id={self._client_id!r})"

    def create_invoice(self, draft: InvoiceDraft) -> CreatedInvoice:
        """Create an invoice; return DealPOS's ID and Number for it (the Number may differ)."""
        return wire.parse_created(self._call(_CREATE, body=wire.create_body(draft)))

    def send_invoice(self, outlet: str, number: str, date: str) -> None:
        """Mark an invoice's goods as sent (outbound logistic) on `date` (YYYY-MM-DD)."""
        fulfillment = {"Outlet": outlet, "Date": date}
        body = {"Outlet": outlet, "Number": number, "Fulfillment": fulfillment}
        self._call(_SEND, body=body)

    def pay_in_full(self, outlet: str, number: str, date: str, method: str, note: str) -> None:
        """Pay an invoice's remaining balance (Amount 0 means "all of it") with `method`."""
        payment = {"Date": date, "Amount": 0, "Method": method, "Note": note}
        body = {"Outlet": outlet, "Number": number, "Payments": [payment]}
        self._call(_PAY, body=body)

    def delete_invoice(self, outlet: str, number: str, *, invoice_id: str | None = None) -> None:
        """Move an invoice to DealPOS's recycle bin (by its ID when known)."""
        self._call(_DELETE, body=wire.delete_body(outlet, number, invoice_id))

    def find_invoice(self, outlet: str, number: str) -> InvoiceView | None:
        """Return the invoice with this outlet and number (recycle bin included), or None."""
        return self._find({"Outlet": outlet, "Number": number})

    def find_invoice_by_id(self, invoice_id: str) -> InvoiceView | None:
        """Return the invoice with DealPOS's ID `invoice_id` (recycle bin included), or None."""
        return self._find({"ID": invoice_id})

    def list_invoices(
        self,
        outlet: str,
        tag: str,
        start_date: str,
        end_date: str,
        page_number: int,
        page_size: int = 100,
    ) -> list[InvoiceView]:
        """One page of the outlet's invoices with `tag` dated in [start, end]; [] past the last."""
        body = wire.list_body(outlet, tag, start_date, end_date, page_number, page_size)
        return wire.parse_invoice_list(self._call(_LIST, body=body))

    def _find(self, params: Mapping[str, str]) -> InvoiceView | None:
        try:
            return wire.parse_invoice(self._call(_FIND, params=params))
        except NotFound:
            return None

    def read(self, endpoint: Endpoint, params: Mapping[str, str] | None = None) -> Any:
        """Make one read-only call (see dealpos/lookups.py); return its parsed body."""
        if endpoint.method != "GET" or not endpoint.repeatable:
            raise ValueError(f"{endpoint.label} is not a read")
        return self._call(endpoint, params=params)

    def _call(
        self,
        endpoint: Endpoint,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """Make one authorised call; on a 401, fetch a new token and try exactly once more."""
        token = self._bearer()
        try:
            return self._exchange(endpoint, body=body, params=params, token=token)
        except AuthError:
            self._forget(token)
        fresh = self._bearer()
        try:
            return self._exchange(endpoint, body=body, params=params, token=fresh)
        except AuthError as exc:
            raise AuthError(
                f"{exc} (even with a freshly issued token)",
                status=exc.status,
                body_head=exc.body_head,
            ) from exc

    def _bearer(self) -> str:
        """Return a valid token, fetching one only now that a call needs it."""
        with self._token_lock:
            if self._token is None or self._clock() >= self._token_expires:
                self._token, self._token_expires = self._fetch_token()
            return self._token

    def _forget(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:  # another thread may already hold a newer one
                self._token = None

    def _fetch_token(self) -> tuple[str, float]:
        credentials = {"client_id": self._client_id, "client_secret": self._client_secret}
        try:
            answer = self._exchange(_TOKEN, body=credentials, params=None, token=None)
        except PermanentError as exc:
            # Any refusal of the token call is a credentials/config problem: it must never reach a
            # caller as NotFound or Conflict about an invoice.
            raise AuthError(
                f"DealPOS did not issue a token: {exc}", status=exc.status, body_head=exc.body_head
            ) from exc
        token = str(answer["access_token"])
        recent_tokens = (*self._secrets[1:], token)[-_TOKENS_SCRUBBED:]
        self._secrets = (self._client_secret, *recent_tokens)
        return token, self._clock() + _token_lifetime(answer.get("expires_in"))

    def _exchange(
        self,
        endpoint: Endpoint,
        *,
        body: Mapping[str, Any] | None,
        params: Mapping[str, str] | None,
        token: str | None,
    ) -> Any:
        """Send one request through the pacer and classify what came back."""
        headers = _headers(token, has_body=body is not None)
        data = None if body is None else jsonutil.dumps(body).encode("utf-8")
        outcome = self._send(endpoint, params=params, data=data, headers=headers)
        return classify(endpoint, outcome, secrets=self._secrets)

    def _send(
        self,
        endpoint: Endpoint,
        *,
        params: Mapping[str, str] | None,
        data: bytes | None,
        headers: dict[str, str | None],
    ) -> Outcome:
        """Wait for the pacer, send, and return the answer or the exception that replaced it."""
        self._pacer.wait_turn()
        started = time.perf_counter()
        try:
            outcome: Outcome = request_bounded(
                self._session,
                endpoint.method,
                self._base + endpoint.path,
                params=params,
                data=data,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,  # a redirect would turn a POST into a GET; report it instead
            )
        except requests.RequestException as exc:
            outcome = exc
        except BaseException:
            self._pacer.record(None, None)  # free the slot even when interrupted
            raise
        self._finish(endpoint, outcome, started)
        return outcome

    def _finish(self, endpoint: Endpoint, outcome: Outcome, started: float) -> None:
        """Tell the pacer, the stats and the log how a call ended."""
        response = outcome if isinstance(outcome, requests.Response) else None
        status = response.status_code if response is not None else None
        headers = response.headers if response is not None else None
        self._pacer.record(headers, status, retry_after=retry_after_hint(response))
        result = str(status) if status is not None else type(outcome).__name__
        self.stats.count(endpoint.name, result)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        _log.debug(
            "dealpos call",
            endpoint=endpoint.name,
            method=endpoint.method,
            path=endpoint.path,
            status=result,
            ms=elapsed_ms,
        )


def _tenant_root(base_url: str) -> str:
    """Accept the tenant host with or without a trailing `/api/v3`; paths add it back."""
    root = base_url.rstrip("/")
    return root.removesuffix(_API_PREFIX)


def _headers(token: str | None, *, has_body: bool) -> dict[str, str | None]:
    """Build request headers; Content-Type only with a body (bodyless JSON GETs fail on DealPOS)."""
    headers: dict[str, str | None] = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    # None removes a Content-Type a caller's session might carry by default.
    headers["Content-Type"] = "application/json" if has_body else None
    return headers


def _token_lifetime(expires_in: Any) -> float:
    """Seconds to trust a token: a little less than DealPOS said; forever when it said nothing."""
    try:
        seconds = float(expires_in)
    except (TypeError, ValueError):
        return math.inf  # no expiry given: keep it until a 401 says otherwise
    if math.isnan(seconds) or seconds <= 0:
        return math.inf
    return max(seconds - _TOKEN_EARLY_SECONDS, seconds / 2)
