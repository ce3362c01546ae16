"""Fakes and constants for the DealPOS client tests (a module, so tests can import them)."""

from __future__ import annotations

from decimal import Decimal

import responses

from sync_job.domain.invoice import Customer, InvoiceDraft, InvoiceLine

BASE = "https://mybrand.dealpos.net"
TOKEN_URL = f"{BASE}/api/v3/Token/OAuth2"
INVOICE_URL = f"{BASE}/api/v3/Invoice"
DETAIL_URL = f"{BASE}/api/v3/Invoice/Detail"
SEND_URL = f"{BASE}/api/v3/OutboundLogistic"
PAY_URL = f"{BASE}/api/v3/Payment/Invoice/AddPaymentFull"
CLIENT_ID = "client-7f3a"
CLIENT_SECRET = "s3cr3t-Zq9-do-not-leak"
WALL_START = 1_800_000_000.0


class FakeClock:
    """A monotonic clock that only moves when code under test sleeps or a test advances it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        """Return the current fake time."""
        return self.now

    def wall(self) -> float:
        """Return a wall-clock time that moves with the fake monotonic one."""
        return WALL_START + self.now

    def sleep(self, seconds: float) -> None:
        """Advance time instead of sleeping."""
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        """Let time pass, as a call's latency would."""
        self.now += seconds


def add_token(mock: responses.RequestsMock, token: str = "tok-1", expires_in: int = 3600) -> None:
    """Register one successful token answer."""
    answer = {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}
    mock.add(responses.POST, TOKEN_URL, json=answer)


BUYER = Customer("Budi", email="budi@example.com")


def a_draft(number: str = "TT-1") -> InvoiceDraft:
    """A one-line drafted invoice."""
    line = InvoiceLine("red_iphone_256", 1, Decimal("150000"), Decimal(0), "Iphone")
    return InvoiceDraft(
        "Online Store", number, "2026-11-27", "TikTok", "1", "Unsent", BUYER, (line,), ""
    )
