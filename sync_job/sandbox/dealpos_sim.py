"""A DealPOS API v3 simulator: OAuth2, invoices, fulfilment, payments, variants, outlets."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sync_job.domain import jsonutil
from sync_job.sandbox import dealpos_page, tamper
from sync_job.sandbox.faults import Fault, FaultConfig, FaultInjector, apply_fault, outcome_name
from sync_job.sandbox.invoices import DealposError, Invoice, InvoiceBook, TenantMode
from sync_job.sandbox.ratelimit import Admission, FixedWindow
from sync_job.sandbox.server import (
    CallCounter,
    LoopbackServer,
    Request,
    Response,
    html_response,
    json_response,
)

Handler = Callable[[Request], tuple[int, Any]]

_DENIED = "Authorization has been denied for this request."
# Calls that change something: only these can be applied and then lose their answer.
_WRITES = {
    ("POST", "/api/v3/invoice"),
    ("DELETE", "/api/v3/invoice"),
    ("POST", "/api/v3/outboundlogistic"),
    ("POST", "/api/v3/payment/invoice/addpaymentfull"),
}


class DealposSimulator(LoopbackServer):
    """Serves one DealPOS tenant with a fixed-window rate limit counted across all endpoints."""

    def __init__(  # noqa: PLR0913  # a simulator's knobs, each with a default
        self,
        client_id: str,
        client_secret: str,
        *,
        variants: Mapping[str, tuple[str, Decimal]],
        outlets: list[str] | None = None,
        payment_methods: list[str] | None = None,
        customers: list[str] | None = None,
        rate_limit: int = 50,
        rate_window_seconds: float = 180,
        token_lifetime_seconds: float = 3600,
        faults: FaultConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        seed: int = 0,
        mode: TenantMode | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(host=host, port=port)
        self.client_id, self.client_secret = client_id, client_secret
        self.clock = clock
        self.calls = CallCounter()
        # What the watch page shows besides DealPOS's own view (set by the sandbox runner).
        self.page_extras = dealpos_page.PageExtras()
        self.faults = FaultInjector(faults)
        self.window = FixedWindow(rate_limit, rate_window_seconds, clock)
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._token_lifetime = token_lifetime_seconds
        self._tokens: dict[str, float] = {}  # token -> expiry on `clock`
        self.mode = mode or TenantMode()
        self._book = InvoiceBook(
            variants,
            outlets or ["Online Store"],
            payment_methods or ["TikTok Shop"],
            self._guid,
            mode=self.mode,
        )
        self._book.customers = list(customers or ["TikTok Customer"])
        self._routes: dict[tuple[str, str], tuple[bool, Handler]] = {
            ("POST", "/api/v3/token/oauth2"): (False, self._token),
            ("POST", "/api/v3/invoice"): (True, self._create),
            ("GET", "/api/v3/invoice/detail"): (True, self._detail),
            ("POST", "/api/v3/invoice/multipleoutlet"): (True, self._list),
            ("DELETE", "/api/v3/invoice"): (True, self._delete),
            ("POST", "/api/v3/outboundlogistic"): (True, self._send),
            ("POST", "/api/v3/payment/invoice/addpaymentfull"): (True, self._pay),
            ("GET", "/api/v3/variant/detail"): (True, self._variant),
            ("GET", "/api/v3/outlet"): (True, self._outlets),
            ("GET", "/api/v3/paymentmethod"): (True, self._payment_methods),
            ("GET", "/api/v3/customer"): (True, self._customers),
        }

    # ----- inspection for tests and people ---------------------------------------------------

    def invoices(self) -> list[Invoice]:
        """Every invoice (recycled ones too), in creation order."""
        with self._lock:
            return self._book.all()

    def invoice(self, number: str, outlet: str | None = None) -> Invoice | None:
        """The invoice with this Number (in `outlet`, default the first outlet), or None."""
        with self._lock:
            return self._book.get(outlet or self._book.outlets[0], number)

    def active_by_reference(self) -> dict[str, Invoice]:
        """Active invoices keyed by ReferenceNumber (the TikTok order id)."""
        return {i.reference: i for i in self.invoices() if i.status == "Active"}

    def by_reference(self) -> dict[str, list[Invoice]]:
        """All invoices grouped by ReferenceNumber (more than one means a duplicate)."""
        out: dict[str, list[Invoice]] = {}
        for invoice in self.invoices():
            out.setdefault(invoice.reference, []).append(invoice)
        return out

    def state(self) -> dict[str, Any]:
        """Invoices, call counts and 429 count as JSON-ready data (also at GET /_sandbox/state)."""
        return {
            "invoices": [i.summary() for i in self.invoices()],
            "calls": self.calls.snapshot(),
            "rate_limited": self.calls.count(outcome="429"),
            "rate_limit": {
                "limit": self.window.limit,
                "window_seconds": self.window.window_seconds,
            },
        }

    def tamper(self, body: Mapping[str, Any]) -> Invoice:
        """Edit an invoice the way a person would in DealPOS (see sandbox/tamper.py)."""
        with self._lock:
            return tamper.tamper(self._book, body)

    def _tamper_call(self, request: Request) -> Response:
        try:
            return json_response(200, self.tamper(_json_object(request)).summary())
        except DealposError as err:
            return json_response(err.status, {"Message": err.message})

    def write_calls(self) -> int:
        """How many calls so far were to an endpoint that changes something (invoice writes)."""
        total = 0
        for endpoint, outcomes in self.calls.snapshot().items():
            method, _, path = endpoint.partition(" ")
            if (method, path.lower()) in _WRITES:
                total += sum(outcomes.values())
        return total

    def expire_tokens(self) -> None:
        """Make every access token issued so far expire now."""
        with self._lock:
            now = self.clock()
            self._tokens = {t: min(exp, now) for t, exp in self._tokens.items()}

    def set_faults(self, faults: FaultConfig) -> None:
        """Switch fault injection to a new configuration."""
        self.faults.configure(faults)

    def set_variant(self, code: str, name: str, unit_price: Decimal) -> None:
        """Add or change a variant (e.g. to fix an unknown SKU mid-test)."""
        with self._lock:
            self._book.variants[code] = (name, unit_price)

    # ----- HTTP ------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response | None:
        """Answer one call: inspection, rate limit, faults, then the endpoint."""
        if request.path == "/_sandbox/tamper" and request.method == "POST":
            return self._tamper_call(request)
        if request.path == "/" or request.path.startswith("/_sandbox/"):
            return self._inspect(request.path, request.query)
        admission = self.window.admit()
        fault = Fault.NONE
        if not admission.allowed:
            response: Response | None = _too_many(admission.reset_seconds)
        else:
            write = (request.method, request.path.lower()) in _WRITES
            fault = self.faults.draw(request, write=write)
            slow = self.faults.config.slow_seconds
            response = apply_fault(
                fault, lambda: self._answer(request), self._refuse, self.stopping, slow
            )
        if response is not None:
            response.headers.update(_limit_headers(admission, self.window.window_seconds))
        self.calls.record(request.endpoint, outcome_name(fault, response))
        return response

    def _inspect(self, path: str, query: Mapping[str, str]) -> Response:
        if path == "/_sandbox/state":
            return json_response(200, self.state())
        if path != "/":
            return json_response(404, {"Message": "no such inspection page"})
        view = dealpos_page.PageView(
            calls=self.calls.count(),
            rate_limited=self.calls.count(outcome="429"),
            window_used=self.window.used(),
            limit=self.window.limit,
            window_seconds=self.window.window_seconds,
            extras=self.page_extras,
        )
        return html_response(200, dealpos_page.render(self.invoices(), view, query))

    def _refuse(self, fault: Fault) -> Response:
        if fault is Fault.RATE_LIMITED:
            return _too_many(self.faults.config.retry_after_seconds)
        if fault is Fault.LOCKED:  # seen on live tenants: an error-shaped body with a 200
            return json_response(200, {"Message": "Invoice is locked by another user"})
        return json_response(500, {"Message": "An error has occurred."})

    def _answer(self, request: Request) -> Response:
        key = (request.method, request.path.lower())
        try:
            if key not in self._routes:
                raise _no_route(request)
            needs_token, handler = self._routes[key]
            if not request.body and "json" in request.headers.get("content-type", ""):
                # dealpos.md: bodyless calls that declare JSON are known to fail on live tenants.
                raise DealposError(400, "A request without a body must not declare a JSON body")
            with self._lock:
                if needs_token:
                    self._check_bearer(request)
                status, payload = handler(request)
        except DealposError as err:
            return json_response(err.status, {"Message": err.message})
        return json_response(status, payload)

    def _check_bearer(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expiry = self._tokens.get(token.strip())
        if scheme.lower() != "bearer" or expiry is None or self.clock() >= expiry:
            raise DealposError(401, _DENIED)

    def _guid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    # ----- endpoints -------------------------------------------------------------------------

    def _token(self, request: Request) -> tuple[int, Any]:
        body = _json_object(request)
        if (
            body.get("client_id") != self.client_id
            or body.get("client_secret") != self.client_secret
        ):
            raise DealposError(401, "Invalid client credentials")
        token = "dp_" + self._rng.randbytes(20).hex()
        self._tokens[token] = self.clock() + self._token_lifetime
        return 200, {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(self._token_lifetime),
        }

    def _create(self, request: Request) -> tuple[int, Any]:
        invoice = self._book.create(_json_object(request))
        return 200, {"ID": invoice.id, "Number": invoice.number}

    def _detail(self, request: Request) -> tuple[int, Any]:
        return 200, self._book.find(request.query).detail(self.mode)

    def _list(self, request: Request) -> tuple[int, Any]:
        return 200, [i.row(self.mode) for i in self._book.page(_json_object(request))]

    def _delete(self, request: Request) -> tuple[int, Any]:
        self._book.delete(_json_object(request))
        return 200, "Invoice has been delete!{}"  # sic: DealPOS's documented answer

    def _send(self, request: Request) -> tuple[int, Any]:
        self._book.send(_json_object(request))
        return 200, {"ID": self._guid(), "OrderFulfillmentState": "Sent"}

    def _pay(self, request: Request) -> tuple[int, Any]:
        invoice = self._book.pay(_json_object(request))
        return 200, {"Message": f"Invoice {invoice.number} has successfully completed a Paid"}

    def _variant(self, request: Request) -> tuple[int, Any]:
        code = request.query.get("Code", "")
        if code not in self._book.variants:
            raise DealposError(404, f"Variant code '{code}' not found")
        name, price = self._book.variants[code]
        ident = str(uuid.uuid5(uuid.NAMESPACE_URL, f"variant:{code}"))
        return 200, {"ID": ident, "Code": code, "Name": name, "UnitPrice": price}

    def _outlets(self, request: Request) -> tuple[int, Any]:
        outlets = [
            {
                "ID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"outlet:{name}")),
                "Name": name,
                "Code": f"OUT{n:02d}",
                "Suspended": False,
            }
            for n, name in enumerate(self._book.outlets, start=1)
        ]
        return 200, outlets

    def _payment_methods(self, request: Request) -> tuple[int, Any]:
        names = self._book.payment_methods
        return 200, [{"ID": _named_id("method", n), "Name": n} for n in names]

    def _customers(self, request: Request) -> tuple[int, Any]:
        # DealPOS searches by name loosely (a part of it, any case); callers compare exactly.
        wanted = request.query.get("Name", "").casefold()
        found = [n for n in self._book.customers if wanted in n.casefold()]
        return 200, [{"ID": _named_id("customer", n), "Name": n} for n in found]


def _named_id(kind: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}:{name}"))


def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = jsonutil.loads(request.body)
    except ValueError as err:
        raise DealposError(400, "The request body is not valid JSON") from err
    if not isinstance(body, dict):
        raise DealposError(400, "The request body must be a JSON object")
    return body


def _no_route(request: Request) -> DealposError:
    return DealposError(
        404, f"No HTTP resource was found that matches the request URI '{request.path}'"
    )


def _too_many(seconds: int) -> Response:
    wait = max(1, seconds)
    body = {"Message": f"Too many requests, retry after {wait} seconds"}
    return json_response(429, body, {"Retry-After": str(wait)})


def _limit_headers(admission: Admission, window_seconds: float) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(admission.limit),
        "RateLimit-Remaining": str(admission.remaining),
        "RateLimit-Reset": str(admission.reset_seconds),
        "RateLimit-Policy": f"{admission.limit};w={window_seconds:g}",
    }
