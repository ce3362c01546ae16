"""Fault injection: each kind, on both simulators, and never on the inspection endpoints."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import requests

from sync_job.sandbox import DealposSimulator, Fault, FaultConfig, TikTokSimulator
from sync_job.sandbox.faults import FaultInjector
from sync_job.sandbox.server import Request

Body = Callable[..., dict[str, Any]]
SHOPS = "/authorization/202309/shops"


def _request(endpoint: str = "GET /x") -> Request:
    method, path = endpoint.split(" ")
    return Request(method, path, {}, {})


def test_config_validates_shares() -> None:
    """Shares must lie in [0, 1] and add up to at most 1."""
    with pytest.raises(ValueError):
        FaultConfig(rate_limited=1.5)
    with pytest.raises(ValueError):
        FaultConfig(rate_limited=0.6, dropped=0.6)


def test_draws_follow_shares_and_seed() -> None:
    """A seeded injector is repeatable and hits each fault about as often as configured."""
    config = FaultConfig(rate_limited=0.1, server_error=0.1, dropped=0.1, lost_response=0.1, seed=7)
    injector = FaultInjector(config)
    draws = [injector.draw(_request(), write=True) for _ in range(4000)]
    again = FaultInjector(config)
    assert draws == [again.draw(_request(), write=True) for _ in range(4000)]
    counts = Counter(draws)
    for fault in (Fault.RATE_LIMITED, Fault.SERVER_ERROR, Fault.DROPPED, Fault.LOST_RESPONSE):
        assert 320 < counts[fault] < 480, counts
    reads = FaultInjector(config)
    assert Fault.LOST_RESPONSE not in {reads.draw(_request(), write=False) for _ in range(500)}


def test_queued_faults_come_first_and_can_target_an_endpoint() -> None:
    """Queued faults apply to the next matching calls, then shares take over."""
    injector = FaultInjector()
    injector.queue(Fault.DROPPED, times=2, endpoint="POST /api/v3/Invoice")
    assert injector.draw(_request("GET /api/v3/Outlet"), write=False) is Fault.NONE
    assert injector.draw(_request("POST /api/v3/Invoice"), write=True) is Fault.DROPPED
    assert injector.draw(_request("POST /api/v3/Invoice"), write=True) is Fault.DROPPED
    assert injector.draw(_request("POST /api/v3/Invoice"), write=True) is Fault.NONE


def test_tiktok_429_and_500(caller: Any, tiktok: TikTokSimulator) -> None:
    """Injected 429 carries code 36009002 and Retry-After; injected 500 carries 36009003."""
    tiktok.set_faults(FaultConfig(rate_limited=1.0, retry_after_seconds=2))
    status, env = caller.call("GET", SHOPS, shop=False)
    assert (status, env["code"]) == (429, 36009002)
    tiktok.set_faults(FaultConfig(server_error=1.0))
    status, env = caller.call("GET", SHOPS, shop=False)
    assert (status, env["code"]) == (500, 36009003)


def test_dropped_connection(caller: Any, tiktok: TikTokSimulator) -> None:
    """A dropped call closes the connection without an answer; the next call works."""
    tiktok.faults.queue(Fault.DROPPED)
    with pytest.raises(requests.ConnectionError):
        caller.call("GET", SHOPS, shop=False)
    assert caller.call("GET", SHOPS, shop=False)[1]["code"] == 0
    assert tiktok.calls.count(f"GET {SHOPS}", "dropped") == 1


def test_slow_answer_times_out_and_stop_is_quick(tiktok: TikTokSimulator, caller: Any) -> None:
    """A slow call outlasts the client's timeout; stop() wakes it without waiting it out."""
    tiktok.set_faults(FaultConfig(slow=1.0, slow_seconds=30))
    with pytest.raises(requests.ReadTimeout):
        caller.http.get(tiktok.url + "/api/v2/token/get", timeout=0.1)
    started = time.monotonic()
    tiktok.stop()
    assert time.monotonic() - started < 1.0


def test_slow_answer_arrives_after_the_delay(dealpos: DealposSimulator, dp: Any) -> None:
    """With a short delay the call is simply late, and is applied."""
    dp.fetch_token()
    dealpos.set_faults(FaultConfig(slow=1.0, slow_seconds=0.05))
    started = time.monotonic()
    assert dp.call("GET", "Outlet").status_code == 200
    assert time.monotonic() - started >= 0.05
    assert dealpos.calls.count("GET /api/v3/Outlet", "200 (slow)") == 1


def test_dealpos_dropped_write_is_not_applied(
    dp: Any, dealpos: DealposSimulator, new_invoice: Body
) -> None:
    """A dropped create leaves nothing behind."""
    dp.fetch_token()
    dealpos.faults.queue(Fault.DROPPED)
    with pytest.raises(requests.ConnectionError):
        dp.call("POST", "Invoice", new_invoice())
    assert dealpos.invoices() == []


def test_dealpos_lost_response_is_applied(
    dp: Any, dealpos: DealposSimulator, new_invoice: Body
) -> None:
    """ "Applied, answer lost": the invoice exists though the client saw the connection drop."""
    dp.fetch_token()
    dealpos.set_faults(FaultConfig(lost_response=1.0))
    assert dp.call("GET", "Outlet").status_code == 200  # reads are never "lost"
    with pytest.raises(requests.ConnectionError):
        dp.call("POST", "Invoice", new_invoice())
    dealpos.set_faults(FaultConfig())
    assert [i.number for i in dealpos.invoices()] == ["TT-1"]
    assert dp.call("POST", "Invoice", new_invoice()).status_code == 409
    assert dealpos.calls.count("POST /api/v3/Invoice", "lost_response") == 1


def test_dealpos_injected_429_and_500(dp: Any, dealpos: DealposSimulator) -> None:
    """Injected 429 has Retry-After and the Message; both keep the rate-limit headers."""
    dp.fetch_token()
    dealpos.set_faults(FaultConfig(rate_limited=1.0, retry_after_seconds=3))
    r = dp.call("GET", "Outlet")
    assert (r.status_code, r.headers["Retry-After"]) == (429, "3")
    assert r.json()["Message"] == "Too many requests, retry after 3 seconds"
    assert "RateLimit-Remaining" in r.headers
    dealpos.set_faults(FaultConfig(server_error=1.0))
    r = dp.call("GET", "Outlet")
    assert r.status_code == 500 and "RateLimit-Limit" in r.headers


def test_inspection_is_never_faulty(
    tiktok: TikTokSimulator, dealpos: DealposSimulator, http: Any
) -> None:
    """/_sandbox/state and the page answer even when every call is dropped."""
    for sim in (tiktok, dealpos):
        sim.set_faults(FaultConfig(dropped=1.0))
        assert http.get(sim.url + "/_sandbox/state", timeout=5).status_code == 200
    assert http.get(dealpos.url + "/", timeout=5).status_code == 200
