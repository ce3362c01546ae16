"""Bad bodies from DealPOS, through the real client and the pusher: classified, then retried,
looked up or quarantined, and the first bytes of the body are kept where a person will look.
"""

from __future__ import annotations

from typing import Any

import pytest
import responses

from sync_job.dealpos import DealposClient, Pacer
from sync_job.domain.errors import AuthError
from sync_job.domain.flow import InvoiceState
from sync_job.engine.push import DrainControl, drain
from sync_job.engine.push_types import PushDeps, PushTally
from sync_job.engine.record import record_orders
from sync_job.engine.shop import ShopContext
from sync_job.net.retrying import RetryConfig
from sync_job.state.ledger import LedgerRow
from sync_job.state.store import Store
from tests.factories import BASE_TIME, SETTINGS, SETTLE_SECONDS, order

SHOP = "shop-bodies"
BASE = "https://tenant.dealpos.test/api/v3"
INVOICE, DETAIL = f"{BASE}/Invoice", f"{BASE}/Invoice/Detail"
SEND = f"{BASE}/OutboundLogistic"
CTX = ShopContext(SHOP, "cipher", SETTINGS, "realtime")
HTML_500 = "<!DOCTYPE html><html><head><title>Runtime Error</title></head><body>IIS</body></html>"
HTML_400 = "<html><body><h1>Bad Request - Invalid Hostname</h1></body></html>"
ATTEMPTS = 3


@pytest.fixture
def store() -> Store:
    """An in-memory state database."""
    return Store.memory(clock=lambda: BASE_TIME)


@pytest.fixture
def rsps(rsps: responses.RequestsMock) -> responses.RequestsMock:
    """The shared strict HTTP mock (tests/conftest.py), a token call registered first."""
    rsps.add(responses.POST, f"{BASE}/Token/OAuth2", json={"access_token": "tok"})
    return rsps


def push(store: Store) -> PushTally:
    """Drain the outbox through a real client (never sleeping) and return its tally."""
    client = DealposClient(
        base_url=BASE,
        client_id="client",
        client_secret="client-secret-zzz",
        pacer=Pacer(1000, 1, sleep=lambda s: None),
    )
    control = DrainControl(retry=RetryConfig(max_attempts=ATTEMPTS), sleep=lambda s: None)
    return drain(PushDeps(store, client, CTX, SETTLE_SECONDS), control)


def detail(o: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """An Invoice/Detail answer for an order's Unsent+Unpaid invoice."""
    return {
        "ID": "inv-1",
        "Number": f"TT-{o['id']}",
        "ReferenceNumber": o["id"],
        "Status": "Active",
        "FulfillmentStatus": "Unsent",
        "PaymentStatus": "Unpaid",
        **fields,
    }


def outbox_error(store: Store, order_id: str) -> str:
    """The last error recorded on the order's (only) outbox row."""
    [row] = store.get_outbox_for_order(SHOP, order_id)
    return row.last_error or ""


def test_html_500_pages_are_retried_then_left_pending_with_the_page_start(
    store: Store, rsps: responses.RequestsMock
) -> None:
    """A 500 HTML page is transient: retried, then left for the next run, its first bytes kept."""
    o = order("AWAITING_SHIPMENT")
    for _ in range(ATTEMPTS):
        rsps.add(responses.POST, INVOICE, status=500, body=HTML_500, content_type="text/html")
    record_orders(store, CTX, [o])
    p = push(store)
    assert p.left_pending == 1 and p.quarantined == 0
    assert store.outbox_counts(SHOP) == {"pending": 1, "in_flight": 0, "quarantined": 0}
    error = outbox_error(store, o["id"])
    assert "HTTP 500" in error and "<!DOCTYPE html><html><head><title>Runtime Error" in error
    assert store.open_attention(SHOP) == []


def test_html_400_page_is_quarantined_with_the_page_start(
    store: Store, rsps: responses.RequestsMock
) -> None:
    """A 400 HTML page (no DealPOS message) quarantines the order; the item quotes the page."""
    o = order("AWAITING_SHIPMENT")
    rsps.add(responses.POST, INVOICE, status=400, body=HTML_400, content_type="text/html")
    record_orders(store, CTX, [o])
    p = push(store)
    assert p.quarantined == 1
    [item] = store.open_attention(SHOP)
    assert item["kind"] == "rejected" and "Bad Request - Invalid Hostname" in item["message"]
    assert "HTTP 400" in item["message"]


@pytest.mark.parametrize(
    "body",
    [
        b"OK",  # not JSON
        b"<html><body>Success</body></html>",  # an HTML page with a 200
        b"[]",  # JSON of the wrong shape
        b'{"Result": "Created"}',  # an object without the invoice ID
        b"",  # nothing at all
    ],
    ids=["text", "html", "list", "no-id", "empty"],
)
def test_create_answered_200_with_an_unexpected_body_is_looked_up_not_repeated(
    store: Store, rsps: responses.RequestsMock, body: bytes
) -> None:
    """A 200 that is not a created invoice may still have created it: look it up first."""
    o = order("AWAITING_SHIPMENT")
    rsps.add(responses.POST, INVOICE, status=200, body=body)
    rsps.add(responses.GET, DETAIL, json=detail(o))
    record_orders(store, CTX, [o])
    p = push(store)
    assert p.adopted == 1 and p.created == 0
    assert [c.request.method for c in rsps.calls] == ["POST", "POST", "GET"]
    ledger = store.get_ledger(SHOP, o["id"])
    assert ledger is not None and ledger.invoice_id == "inv-1"
    assert store.outbox_counts(SHOP) == {"pending": 0, "in_flight": 0, "quarantined": 0}


def test_send_answered_html_every_time_stays_in_doubt_with_the_page_start(
    store: Store, rsps: responses.RequestsMock
) -> None:
    """Each odd 200 on a send is checked before the next try; in the end it stays in doubt."""
    o = order("IN_TRANSIT")
    store.put_ledger(SHOP, o["id"], LedgerRow(f"TT-{o['id']}", "inv-1", InvoiceState("active"), {}))
    page = "<html><head><title>Maintenance</title></head><body>back soon</body></html>"
    rsps.add(responses.POST, SEND, status=200, body=page)
    for _ in range(ATTEMPTS - 1):
        rsps.add(responses.GET, DETAIL, json=detail(o))  # still Unsent: the send did not apply
        rsps.add(responses.POST, SEND, status=200, body=page)
    record_orders(store, CTX, [o])
    p = push(store)
    assert p.left_pending == 1 and p.quarantined == 0
    assert store.outbox_counts(SHOP)["in_flight"] == 1  # the next run looks before sending
    error = outbox_error(store, o["id"])
    assert "<html><head><title>Maintenance</title>" in error


@pytest.mark.parametrize(
    "body",
    [b"<html>login</html>", b"[]", b"{}", b'{"Message": "OK"}'],
    ids=["html", "list", "empty-object", "no-invoice-fields"],
)
def test_lookup_answered_200_without_an_invoice_is_not_taken_as_one(
    store: Store, rsps: responses.RequestsMock, body: bytes
) -> None:
    """A lookup must show the invoice itself; any other 200 is retried, never adopted."""
    o = order("AWAITING_SHIPMENT")
    rsps.add(responses.POST, INVOICE, status=504, body=b"Gateway Timeout")
    for _ in range(ATTEMPTS - 1):
        rsps.add(responses.GET, DETAIL, status=200, body=body)
    record_orders(store, CTX, [o])
    p = push(store)
    assert p.adopted == 0 and p.left_pending == 1
    assert store.get_ledger(SHOP, o["id"]) is None
    assert store.outbox_counts(SHOP)["in_flight"] == 1  # still in doubt: looked up next run
    assert body[:20].decode() in outbox_error(store, o["id"])


def test_html_401_pages_stop_the_push_with_the_page_start(
    store: Store, rsps: responses.RequestsMock
) -> None:
    """Refused credentials end the push (not a quarantine); the error quotes the page."""
    o = order("AWAITING_SHIPMENT")
    page = "<html><body>401 - Unauthorized: Access is denied</body></html>"
    rsps.add(responses.POST, INVOICE, status=401, body=page)
    rsps.add(responses.POST, f"{BASE}/Token/OAuth2", json={"access_token": "tok2"})
    rsps.add(responses.POST, INVOICE, status=401, body=page)
    record_orders(store, CTX, [o])
    with pytest.raises(AuthError, match="401 - Unauthorized"):
        push(store)
    assert store.open_attention(SHOP) == []
    assert store.outbox_counts(SHOP)["quarantined"] == 0
