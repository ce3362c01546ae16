"""Fixtures for the DealPOS client tests: a fake clock, a strict HTTP mock, a client."""

from __future__ import annotations

import pytest

from sync_job.dealpos import DealposClient, Pacer
from tests.dealpos.dealpos_fakes import BASE, CLIENT_ID, CLIENT_SECRET, FakeClock


@pytest.fixture
def fake() -> FakeClock:
    """A fresh fake clock."""
    return FakeClock()


@pytest.fixture
def pacer(fake: FakeClock) -> Pacer:
    """DealPOS's default quota, on the fake clock."""
    return Pacer(50, 180, clock=fake.clock, sleep=fake.sleep, wall_clock=fake.wall)


@pytest.fixture
def client(pacer: Pacer, fake: FakeClock) -> DealposClient:
    """A client for the fake tenant, on the fake clock."""
    return DealposClient(
        base_url=BASE,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        pacer=pacer,
        clock=fake.clock,
    )
