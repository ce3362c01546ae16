"""End to end under faults, token expiry and ties: the mirror still ends exactly as desired."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync_job.sandbox.faults import Fault, FaultConfig
from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.state.store import Store
from tests.e2e.conftest import SECRETS, SHOP, Sandbox, past_clock, running_sandbox
from tests.e2e.test_seed_flows import put, states
from tests.factories import line, order

pytestmark = pytest.mark.e2e

FAULTS = FaultConfig(
    rate_limited=0.04,
    server_error=0.03,
    slow=0.01,
    dropped=0.02,
    lost_response=0.03,
    slow_seconds=2.0,
    retry_after_seconds=1,
    seed=7,
)


@pytest.fixture
def faulty(tmp_path: Path) -> Iterator[Sandbox]:
    """Simulators failing ~10% of calls on both sides."""
    with running_sandbox(tmp_path, tiktok_faults=FAULTS, dealpos_faults=FAULTS) as box:
        yield box


def test_faults_on_both_sides_end_with_no_duplicate_and_no_missing(faulty: Sandbox) -> None:
    """Lifecycles under 429/500/slow/dropped/lost answers: DealPOS ends as desired."""
    gen = LifecycleGenerator(faulty.tiktok, SHOP, seed=3, clock=past_clock)
    gen.bulk_create(40)
    for _ in range(4):
        gen.advance(60)
        faulty.run("once", check_codes=(0, 1))  # a run may fail when TikTok stays down
    gen.drain()
    faulty.tiktok.set_faults(FaultConfig())
    faulty.dealpos.set_faults(FaultConfig())
    faulty.settle()
    report = faulty.report()
    assert report.ok, report.summary() + str(report.wrong + report.missing)
    injected = sum(
        faulty.dealpos.calls.count(outcome=o) for o in ("lost_response", "dropped", "slow", "429")
    )
    assert injected > 0  # the faults really happened


def test_tiktok_token_expiry_refreshes_and_persists_both_tokens(sandbox: Sandbox) -> None:
    """105002 → refresh once → both new tokens in the state DB; the next run uses them."""
    gen = LifecycleGenerator(sandbox.tiktok, SHOP, seed=5, clock=past_clock)
    gen.bulk_create(5)
    sandbox.settle()
    sandbox.tiktok.expire_access_token()
    gen.advance(10)
    sandbox.settle()
    store = Store.open(sandbox.state_path)
    saved = store.load_tokens("e2e-app-key")
    store.close()
    assert saved is not None
    assert saved.refresh_token != SECRETS["TIKTOK_REFRESH_TOKEN"]  # the config's one is spent
    assert (saved.access_token, saved.refresh_token) == sandbox.tiktok.tokens
    sandbox.tiktok.expire_access_token()  # must refresh with the saved refresh token
    gen.advance(10)
    sandbox.settle()
    assert sandbox.report().ok


def test_dealpos_token_expiry_mid_run_reauthenticates(sandbox: Sandbox) -> None:
    """A DealPOS token expiring in the middle of a run costs one re-auth, nothing else."""
    gen = LifecycleGenerator(sandbox.tiktok, SHOP, seed=6, clock=past_clock, unknown_sku_share=0)
    gen.bulk_create(60)
    stop = threading.Event()

    def expire_after_some_calls() -> None:
        while not stop.is_set():
            if sandbox.dealpos.calls.count("POST /api/v3/Invoice") >= 20:
                sandbox.dealpos.expire_tokens()
                return
            time.sleep(0.001)

    watcher = threading.Thread(target=expire_after_some_calls)
    watcher.start()
    try:
        sandbox.settle()
    finally:
        stop.set()
        watcher.join()
    assert sandbox.report().ok
    assert sandbox.dealpos.calls.count("POST /api/v3/Token/OAuth2") == 2
    assert sandbox.dealpos.calls.count("POST /api/v3/Invoice", "401") >= 1


def test_hundreds_of_orders_sharing_one_update_time_while_one_changes_mid_paging(
    sandbox: Sandbox,
) -> None:
    """350 orders with one update_time span 4 pages; an order updated during paging is not lost."""
    gen = LifecycleGenerator(sandbox.tiktok, SHOP, seed=9, clock=past_clock, unknown_sku_share=0)
    stamp = int(past_clock(60))
    ids = gen.bulk_create(350, update_time=stamp)
    pages: list[str] = []

    def change_one_order(shop_id: str) -> None:
        pages.append(shop_id)
        if len(pages) == 2:  # between page 2 and 3: move an order from page 1 forward
            gen.move(ids[0])

    sandbox.tiktok.on_orders_page = change_one_order
    sandbox.settle()
    sandbox.tiktok.on_orders_page = None
    assert len(pages) >= 4
    report = sandbox.report()
    assert report.ok, report.summary()
    assert report.invoices == 350


@pytest.mark.parametrize(
    ("status", "endpoint"),
    [
        ("IN_TRANSIT", "POST /api/v3/OutboundLogistic"),
        ("COMPLETED", "POST /api/v3/Payment/Invoice/AddPaymentFull"),
    ],
)
def test_a_200_with_an_error_body_is_looked_up_not_taken_as_done(
    sandbox: Sandbox, status: str, endpoint: str
) -> None:
    """`200 {"Message": "Invoice is locked by another user"}` to a send or pay is in doubt:
    the invoice is looked up, found unchanged, and the call made again (issue 11 item 12)."""
    o = put(sandbox, order("AWAITING_SHIPMENT", lines=[line("KAOS-HITAM-M")]))
    sandbox.settle()
    sandbox.dealpos.faults.queue(Fault.LOCKED, endpoint=endpoint)
    o = put(sandbox, o, status)
    sandbox.settle()
    paid = "Paid" if status == "COMPLETED" else "Unpaid"
    assert states(sandbox, o["id"]) == [("Active", "Sent", paid)]
    calls = sandbox.dealpos.calls
    assert calls.count(endpoint, outcome="200") == 2  # the locked answer, then the real one
    assert calls.count("GET /api/v3/Invoice/Detail") == 1  # looked up once before repeating
