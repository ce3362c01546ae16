"""The client against the simulated tenant over real loopback HTTP: lookups, list, delete by ID."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from sync_job.dealpos import DealposClient, Pacer
from sync_job.sandbox import defaults
from sync_job.sandbox.dealpos_sim import DealposSimulator
from sync_job.sandbox.invoices import TenantMode
from tests.dealpos.dealpos_fakes import FakeClock, a_draft


def start(mode: TenantMode) -> DealposSimulator:
    """A started simulator in `mode` with a generous quota."""
    sim = defaults.dealpos_simulator(rate_limit=1000, mode=mode)
    sim.set_variant("red_iphone_256", "Iphone", Decimal("150000"))
    sim.start()
    return sim


@pytest.fixture(params=["default", "renumbering,documented"])
def sim(request: pytest.FixtureRequest) -> Iterator[DealposSimulator]:
    """The simulated tenant, once per mode."""
    simulator = start(TenantMode.parse(request.param))
    yield simulator
    simulator.stop()


@pytest.fixture
def client(sim: DealposSimulator, fake: FakeClock) -> DealposClient:
    """A client for the simulated tenant (no pacing delay, fake clock)."""
    return DealposClient(
        base_url=sim.url,
        client_id=defaults.DEALPOS_CLIENT_ID,
        client_secret=defaults.DEALPOS_CLIENT_SECRET,
        pacer=Pacer(0, 0, clock=fake.clock, sleep=fake.sleep),
    )


def test_create_then_find_by_id_and_by_returned_number(
    sim: DealposSimulator, client: DealposClient
) -> None:
    """The create's answer gives the ID and Number every later call can use."""
    created = client.create_invoice(a_draft("TT-1"))
    by_id = client.find_invoice_by_id(created.id)
    by_number = client.find_invoice("Online Store", created.number)
    assert by_id is not None and by_id == by_number
    assert (by_id.number, by_id.payment, by_id.delivery) == (created.number, "Unpaid", "Unsent")
    expected_names = "documented" if sim.mode.documented_names else "legacy"
    assert by_id.field_names == expected_names
    assert client.find_invoice_by_id("no-such-id") is None


def test_list_invoices_pages_until_empty(client: DealposClient) -> None:
    """list_invoices returns typed rows a page at a time, [] past the last page."""
    numbers = [client.create_invoice(a_draft(f"TT-{n}")).number for n in range(3)]
    pages = [
        client.list_invoices("Online Store", "TikTok", "2026-11-26", "2026-11-28", n, page_size=2)
        for n in (1, 2, 3)
    ]
    assert [[row.number for row in page] for page in pages] == [numbers[:2], numbers[2:], []]
    assert pages[0][0].amount == 150000


def test_delete_by_id(client: DealposClient) -> None:
    """A delete by DealPOS's ID moves that invoice to the recycle bin."""
    created = client.create_invoice(a_draft("TT-1"))
    client.delete_invoice("Online Store", "ignored", invoice_id=created.id)
    found = client.find_invoice_by_id(created.id)
    assert found is not None and found.status == "Cancelled"
