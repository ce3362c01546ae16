"""Fixtures: simulators on loopback port 0 with hand-moved clocks, and small API callers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest
import requests

from sync_job.domain import jsonutil
from sync_job.sandbox import DealposSimulator, ManualClock, TikTokSimulator, dealpos_variants
from sync_job.sandbox.invoices import TenantMode
from sync_job.sandbox.tiktok_sim import _signature

APP_KEY, APP_SECRET = "test-app", "test-secret"
SHOP_ID, CIPHER = "7495000000000000001", "GCP_shop+cipher/1"
CLIENT_ID, CLIENT_SECRET = "dp-client", "dp-secret"


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when a test moves it."""
    return ManualClock()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A keep-alive session, closed at the end."""
    with requests.Session() as session:
        yield session


@pytest.fixture
def tiktok(clock: ManualClock) -> Iterator[TikTokSimulator]:
    """A started TikTok simulator with one shop and no rate limit."""
    sim = TikTokSimulator(
        APP_KEY, APP_SECRET, [(SHOP_ID, CIPHER)], clock=clock, rate_limit_per_second=None
    )
    with sim:
        yield sim


@pytest.fixture
def dealpos_mode() -> TenantMode:
    """The simulated tenant's mode; parametrize `dealpos_mode` to test another one."""
    return TenantMode()


@pytest.fixture
def dealpos(clock: ManualClock, dealpos_mode: TenantMode) -> Iterator[DealposSimulator]:
    """A started DealPOS simulator with the shared catalogue and a generous rate limit."""
    sim = DealposSimulator(
        CLIENT_ID,
        CLIENT_SECRET,
        variants=dealpos_variants(),
        rate_limit=1000,
        clock=clock,
        mode=dealpos_mode,
    )
    with sim:
        yield sim


class TikTokCaller:
    """Signs and sends TikTok calls as the spec says (raw values signed, encoded on the wire)."""

    def __init__(self, sim: TikTokSimulator, http: requests.Session) -> None:
        self.sim, self.http = sim, http
        self.access_token = sim.tokens[0]
        self.secret = APP_SECRET

    def call(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        *,
        shop: bool = True,
        timestamp: int | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Send one signed call; return (HTTP status, parsed envelope)."""
        query = {"app_key": APP_KEY, "timestamp": str(timestamp or int(self.sim.clock()))}
        if shop:
            query["shop_cipher"] = CIPHER
        query.update(params or {})
        raw = jsonutil.dumps(body).encode() if body is not None else None
        query["sign"] = _signature(path, query, raw, self.secret)
        headers = {"x-tts-access-token": self.access_token, "content-type": "application/json"}
        r = self.http.request(
            method, self.sim.url + path, params=query, data=raw, headers=headers, timeout=5
        )
        return r.status_code, r.json()

    def search(self, body: Any, **params: str) -> dict[str, Any]:
        """One successful orders-search page (`data`)."""
        _, env = self.call("POST", "/order/202309/orders/search", params, body)
        assert env["code"] == 0, env
        return dict(env["data"])


@pytest.fixture
def caller(tiktok: TikTokSimulator, http: requests.Session) -> TikTokCaller:
    """A signed caller for the `tiktok` fixture."""
    return TikTokCaller(tiktok, http)


class DealposCaller:
    """Calls the DealPOS simulator with a Bearer token fetched once."""

    def __init__(self, sim: DealposSimulator, http: requests.Session) -> None:
        self.sim, self.http = sim, http
        self.client_id, self.client_secret = CLIENT_ID, CLIENT_SECRET
        self.token = ""

    def fetch_token(self) -> requests.Response:
        """Ask for a new token and keep it."""
        body = {"client_id": self.client_id, "client_secret": self.client_secret}
        r = self.http.post(self.sim.url + "/api/v3/Token/OAuth2", json=body, timeout=5)
        if r.status_code == 200:
            self.token = str(r.json()["access_token"])
        return r

    def call(self, method: str, path: str, body: Any = None, **query: str) -> requests.Response:
        """Send one API call (path below /api/v3/), JSON body given as Python data."""
        if not self.token:
            self.fetch_token()
        headers = {"Authorization": f"Bearer {self.token}"}
        data = None
        if body is not None:
            data = jsonutil.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        url = f"{self.sim.url}/api/v3/{path}"
        return self.http.request(method, url, params=query, data=data, headers=headers, timeout=5)


@pytest.fixture
def dp(dealpos: DealposSimulator, http: requests.Session) -> DealposCaller:
    """An authenticated caller for the `dealpos` fixture."""
    return DealposCaller(dealpos, http)


def invoice_body(number: str = "TT-1", **overrides: Any) -> dict[str, Any]:
    """A valid create-invoice body (two lines from the shared catalogue)."""
    body: dict[str, Any] = {
        "Outlet": "Online Store",
        "Number": number,
        "Date": "2026-01-01",
        "Tag": "TikTok",
        "ReferenceNumber": number.removeprefix("TT-"),
        "Fulfillment": "Unsent",
        "Customer": {"Name": "Budi", "Email": "b@example.com", "Mobile": "0812"},
        "Variants": [
            {"Code": "KAOS-HITAM-M", "Quantity": 2, "Price": 59000, "Discount": 6000},
            {"Code": "TEH-MELATI-100", "Quantity": 1, "Price": Decimal("18500.50"), "Discount": 0},
        ],
        "Payments": [],
    }
    body.update(overrides)
    return body


@pytest.fixture
def new_invoice() -> Callable[..., dict[str, Any]]:
    """The `invoice_body` builder, as a fixture."""
    return invoice_body
