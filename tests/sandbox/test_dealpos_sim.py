"""The DealPOS simulator: auth, invoice life cycle, validation, rate limit, inspection."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import requests

from sync_job.domain import jsonutil
from sync_job.sandbox import DealposSimulator, ManualClock, dealpos_variants
from sync_job.sandbox.invoices import TenantMode

Body = Callable[..., dict[str, Any]]
SEND = {
    "Outlet": "Online Store",
    "Number": "TT-1",
    "Fulfillment": {"Outlet": "Online Store", "Date": "2026-01-02"},
}
PAY = {
    "Outlet": "Online Store",
    "Number": "TT-1",
    "Payments": [{"Date": "2026-01-02", "Amount": 0, "Method": "TikTok Shop"}],
}
KEY = {"Outlet": "Online Store", "Number": "TT-1"}


def _detail(dp: Any, number: str = "TT-1") -> dict[str, Any]:
    r = dp.call("GET", "Invoice/Detail", Outlet="Online Store", Number=number)
    assert r.status_code == 200, r.text
    return dict(jsonutil.loads(r.content))


def test_token_and_bearer_checks(dp: Any, dealpos: DealposSimulator, clock: ManualClock) -> None:
    """No token, a bad token and an expired token are 401; a fresh one works."""
    assert dp.fetch_token().json()["token_type"] == "Bearer"
    assert dp.call("GET", "Outlet").status_code == 200
    assert dp.http.get(dealpos.url + "/api/v3/Outlet", timeout=5).status_code == 401
    dp.token = "forged"
    assert dp.call("GET", "Outlet").status_code == 401
    dp.fetch_token()
    clock.advance(3600)
    r = dp.call("GET", "Outlet")
    assert r.status_code == 401 and r.json()["Message"]
    dp.fetch_token()
    dealpos.expire_tokens()
    assert dp.call("GET", "Outlet").status_code == 401


def test_wrong_client_secret_is_refused(dp: Any) -> None:
    """The token endpoint refuses unknown client credentials."""
    dp.client_secret = "guess"
    assert dp.fetch_token().status_code == 401


def test_create_then_detail(dp: Any, new_invoice: Body, dealpos: DealposSimulator) -> None:
    """A created invoice reads back with exact totals, Unpaid and Unsent."""
    r = dp.call("POST", "Invoice", new_invoice())
    assert r.status_code == 200 and r.json()["Number"] == "TT-1"
    detail = _detail(dp)
    assert detail["ID"] == r.json()["ID"]
    assert detail["Total"] == Decimal("130500.50")  # 2 × 59000 − 6000 + 18500.50
    assert (detail["PaymentStatus"], detail["FulfillmentStatus"], detail["Status"]) == (
        "Unpaid",
        "Unsent",
        "Active",
    )
    assert detail["ReferenceNumber"] == "1" and detail["Customer"]["Name"] == "Budi"
    by_id = dp.call("GET", "Invoice/Detail", ID=detail["ID"]).json()
    assert by_id["Number"] == "TT-1"
    assert dealpos.active_by_reference()["1"].total == Decimal("130500.50")


def test_duplicate_number_is_409(dp: Any, new_invoice: Body, dealpos: DealposSimulator) -> None:
    """A second create with the same Outlet + Number is a 409 and changes nothing."""
    assert dp.call("POST", "Invoice", new_invoice()).status_code == 200
    r = dp.call("POST", "Invoice", new_invoice())
    assert r.status_code == 409 and "already exists" in r.json()["Message"]
    assert len(dealpos.invoices()) == 1


def test_unknown_variant_is_400(dp: Any, new_invoice: Body, dealpos: DealposSimulator) -> None:
    """An unknown code is a 400 naming it; nothing is stored."""
    body = new_invoice(Variants=[{"Code": "NOPE-1", "Quantity": 1, "Price": 1000}])
    r = dp.call("POST", "Invoice", body)
    assert (r.status_code, r.json()) == (400, {"Message": "Variant code 'NOPE-1' not found"})
    assert dealpos.invoices() == []


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"Outlet": "Mall"}, "Outlet"),
        ({"Number": ""}, "Number"),
        ({"Fulfillment": "Shipped"}, "Fulfillment"),
        ({"Date": "01/02/2026"}, "Date"),
        ({"Payments": [{"Amount": 1, "Method": "Cash"}]}, "Payment method"),
        ({"Variants": [{"Code": "KAOS-HITAM-M", "Quantity": 0}]}, "Quantity"),
        ({"Variants": [{"Code": "KAOS-HITAM-M", "Quantity": 1, "Price": "59000"}]}, "Price"),
        ({"Variants": []}, "Variants"),
    ],
)
def test_create_validation(
    dp: Any, new_invoice: Body, override: dict[str, Any], needle: str
) -> None:
    """Invalid fields are 400 with a message that names them."""
    r = dp.call("POST", "Invoice", new_invoice(**override))
    assert r.status_code == 400 and needle in r.json()["Message"]


def test_body_that_is_not_json_is_400(dp: Any) -> None:
    """Only JSON bodies are accepted."""
    dp.fetch_token()
    r = dp.http.post(
        dp.sim.url + "/api/v3/Invoice",
        data="Outlet=Online+Store",
        headers={
            "Authorization": f"Bearer {dp.token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert r.status_code == 400 and "JSON" in r.json()["Message"]


def test_payments_at_create_decide_paid_or_partial(dp: Any, new_invoice: Body) -> None:
    """Payments covering the total make it Paid; less makes it Partial."""
    full = [{"Date": "2026-01-01", "Amount": Decimal("130500.50"), "Method": "TikTok Shop"}]
    assert dp.call("POST", "Invoice", new_invoice("TT-1", Payments=full, Fulfillment="Sent")).ok
    part = [{"Amount": 100000, "Method": "TikTok Shop"}]
    assert dp.call("POST", "Invoice", new_invoice("TT-2", Payments=part)).ok
    one, two = _detail(dp, "TT-1"), _detail(dp, "TT-2")
    assert (one["PaymentStatus"], one["FulfillmentStatus"]) == ("Paid", "Sent")
    assert (two["PaymentStatus"], two["Balance"]) == ("Partial", Decimal("30500.50"))


def test_send_pay_delete_life_cycle(dp: Any, new_invoice: Body, dealpos: DealposSimulator) -> None:
    """Send, pay, then delete: Sent + Paid, then Cancelled + Returned; repeats are 400."""
    dp.call("POST", "Invoice", new_invoice())
    r = dp.call("POST", "OutboundLogistic", SEND)
    assert r.status_code == 200 and r.json()["OrderFulfillmentState"] == "Sent"
    assert dp.call("POST", "OutboundLogistic", SEND).status_code == 400
    r = dp.call("POST", "Payment/Invoice/AddPaymentFull", PAY)
    assert r.status_code == 200 and "has successfully completed a Paid" in r.json()["Message"]
    assert _detail(dp)["AmountPaid"] == Decimal("130500.50")
    assert dp.call("POST", "Payment/Invoice/AddPaymentFull", PAY).status_code == 400
    r = dp.call("DELETE", "Invoice", KEY)
    assert r.status_code == 200 and r.json() == "Invoice has been delete!{}"
    detail = _detail(dp)
    assert (detail["Status"], detail["FulfillmentStatus"], detail["PaymentStatus"]) == (
        "Cancelled",
        "Returned",
        "Paid",
    )
    for path, body in (("Invoice", KEY), ("OutboundLogistic", SEND)):
        method = "DELETE" if path == "Invoice" else "POST"
        r = dp.call(method, path, body)
        assert r.status_code == 400 and "recycle bin" in r.json()["Message"]
    assert dealpos.active_by_reference() == {}


def test_unsent_invoice_stays_unsent_when_deleted(dp: Any, new_invoice: Body) -> None:
    """Deleting an Unsent invoice leaves its fulfilment Unsent."""
    dp.call("POST", "Invoice", new_invoice())
    dp.call("DELETE", "Invoice", KEY)
    assert (_detail(dp)["Status"], _detail(dp)["FulfillmentStatus"]) == ("Cancelled", "Unsent")


def test_missing_invoice_is_404(dp: Any) -> None:
    """Detail, send, pay and delete of an unknown number are 404."""
    assert dp.call("GET", "Invoice/Detail", Outlet="Online Store", Number="X").status_code == 404
    assert dp.call("POST", "OutboundLogistic", SEND).status_code == 404
    assert dp.call("POST", "Payment/Invoice/AddPaymentFull", PAY).status_code == 404
    assert dp.call("DELETE", "Invoice", KEY).status_code == 404


def test_variant_and_outlet_lookups(dp: Any) -> None:
    """Variant/Detail knows the catalogue (404 otherwise); Outlet lists the outlets."""
    r = dp.call("GET", "Variant/Detail", Code="KAOS-HITAM-M")
    assert r.json()["UnitPrice"] == 59000 and r.json()["Code"] == "KAOS-HITAM-M"
    assert dp.call("GET", "Variant/Detail", Code="NOPE").status_code == 404
    assert [o["Name"] for o in dp.call("GET", "Outlet").json()] == ["Online Store"]


def test_rate_limit_headers_and_429(clock: ManualClock, http: requests.Session) -> None:
    """Every answer reports the window; the token call counts; over it → 429 + Retry-After."""
    sim = DealposSimulator(
        "c", "s", variants=dealpos_variants(), rate_limit=3, rate_window_seconds=180, clock=clock
    )
    with sim:
        r = http.post(
            sim.url + "/api/v3/Token/OAuth2", json={"client_id": "c", "client_secret": "s"}
        )
        assert r.headers["RateLimit-Limit"] == "3" and r.headers["RateLimit-Remaining"] == "2"
        assert r.headers["RateLimit-Policy"] == "3;w=180" and r.headers["RateLimit-Reset"] == "180"
        auth = {"Authorization": "Bearer " + r.json()["access_token"]}
        clock.advance(10.5)
        http.get(sim.url + "/api/v3/Outlet", headers=auth)
        r = http.get(sim.url + "/api/v3/Outlet", headers=auth)
        assert r.status_code == 200 and r.headers["RateLimit-Remaining"] == "0"
        r = http.get(sim.url + "/api/v3/Outlet", headers=auth)
        assert r.status_code == 429 and r.headers["Retry-After"] == "170"
        assert r.json()["Message"] == "Too many requests, retry after 170 seconds"
        assert http.get(sim.url + "/_sandbox/state").json()["rate_limited"] == 1  # not counted
        clock.advance(170)
        assert http.get(sim.url + "/api/v3/Outlet", headers=auth).status_code == 200


def test_state_and_html_page(dp: Any, new_invoice: Body, dealpos: DealposSimulator) -> None:
    """The state JSON lists invoices and counts; the page lists invoices and refreshes itself."""
    dp.call("POST", "Invoice", new_invoice())
    dp.call("POST", "Invoice", new_invoice())
    state = jsonutil.loads(dp.http.get(dealpos.url + "/_sandbox/state").content)
    (invoice,) = state["invoices"]
    assert (invoice["number"], invoice["reference"], invoice["payment"]) == ("TT-1", "1", "Unpaid")
    assert invoice["total"] == Decimal("130500.50") and len(invoice["lines"]) == 2
    assert state["calls"]["POST /api/v3/Invoice"] == {"200": 1, "409": 1}
    page = dp.http.get(dealpos.url + "/").text
    assert 'http-equiv="refresh" content="5"' in page and "TT-1" in page
    assert "Rp 130.500" in page and "3 of 1000" in page  # money as merchants write it; quota used


def test_bodyless_call_declaring_json_is_400(dp: Any) -> None:
    """A GET without a body but with Content-Type: application/json is refused."""
    dp.fetch_token()
    headers = {"Authorization": f"Bearer {dp.token}", "Content-Type": "application/json"}
    r = dp.http.get(dp.sim.url + "/api/v3/Outlet", headers=headers, timeout=5)
    assert r.status_code == 400 and "body" in r.json()["Message"]


def _page(dp: Any, number: int, size: int = 2, **body: Any) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"Outlet": ["Online Store"], "Tag": ["TikTok"], "From": "2026-01-01"}
    query |= {"To": "2026-01-31", "Status": "Any", "PageNumber": number, "PageSize": size}
    r = dp.call("POST", "Invoice/MultipleOutlet", query | body)
    assert r.status_code == 200, r.text
    return list(jsonutil.loads(r.content))


def test_invoice_list_pages_by_outlet_tag_and_date(dp: Any, new_invoice: Body) -> None:
    """MultipleOutlet lists matching invoices oldest first, a page at a time, [] past the end."""
    for n in range(1, 4):
        dp.call("POST", "Invoice", new_invoice(f"TT-{n}"))
    dp.call("POST", "Invoice", new_invoice("TT-9", Tag="Shopee"))
    dp.call("POST", "Invoice", new_invoice("TT-8", Date="2026-02-01"))
    dp.call("DELETE", "Invoice", {"Outlet": "Online Store", "Number": "TT-2"})
    first, second = _page(dp, 1), _page(dp, 2)
    assert [r["Number"] for r in first + second] == ["TT-1", "TT-2", "TT-3"]
    assert _page(dp, 3) == []
    row = first[1]
    assert (row["Status"], row["Amount"], row["ReferenceNumber"]) == (
        "Cancelled",
        Decimal("130500.50"),
        "2",
    )
    assert first[0]["Created"] < first[1]["Created"] < second[0]["Created"]
    assert dp.call("POST", "Invoice/MultipleOutlet", {"PageSize": 101}).status_code == 400


def test_detail_and_delete_by_id(dp: Any, new_invoice: Body) -> None:
    """An invoice is found by its ID and deleted by `{"InvoiceID": id}`."""
    ident = dp.call("POST", "Invoice", new_invoice()).json()["ID"]
    r = dp.call("GET", "Invoice/Detail", ID=ident)
    assert r.status_code == 200 and r.json()["Number"] == "TT-1"
    assert dp.call("DELETE", "Invoice", {"InvoiceID": ident}).status_code == 200
    assert dp.call("GET", "Invoice/Detail", ID=ident).json()["Status"] == "Cancelled"


@pytest.mark.parametrize("dealpos_mode", [TenantMode(renumbering=True)])
def test_renumbering_tenant_answers_its_own_number(dp: Any, new_invoice: Body) -> None:
    """A renumbering tenant keeps ReferenceNumber but gives the invoice its own INV/ Number."""
    first = dp.call("POST", "Invoice", new_invoice("TT-1")).json()
    second = dp.call("POST", "Invoice", new_invoice("TT-1")).json()  # no 409: Number not ours
    assert (first["Number"], second["Number"]) == ("INV/2026/00001", "INV/2026/00002")
    assert dp.call("GET", "Invoice/Detail", Outlet="Online Store", Number="TT-1").status_code == 404
    assert _detail(dp, "INV/2026/00001")["ReferenceNumber"] == "1"


@pytest.mark.parametrize("dealpos_mode", [TenantMode(documented_names=True)])
def test_documented_field_names_tenant(dp: Any, new_invoice: Body) -> None:
    """Detail and list rows use Payment / Delivery, never the older names."""
    dp.call("POST", "Invoice", new_invoice())
    detail = _detail(dp)
    assert (detail["Payment"], detail["Delivery"], detail["Status"]) == (
        "Unpaid",
        "Unsent",
        "Active",
    )
    assert "PaymentStatus" not in detail and "FulfillmentStatus" not in detail
    assert _page(dp, 1)[0]["Delivery"] == "Unsent"


@pytest.mark.parametrize("dealpos_mode", [TenantMode(erase_on_delete=True)])
def test_erase_on_delete_tenant(dp: Any, new_invoice: Body) -> None:
    """A delete erases the invoice: the lookup finds nothing at all afterwards."""
    dp.call("POST", "Invoice", new_invoice())
    assert dp.call("DELETE", "Invoice", KEY).status_code == 200
    assert dp.call("GET", "Invoice/Detail", Outlet="Online Store", Number="TT-1").status_code == 404


def test_tenant_mode_words() -> None:
    """Modes are read from words; unknown words are refused by name."""
    mode = TenantMode.parse("renumbering,documented")
    assert mode == TenantMode(renumbering=True, documented_names=True)
    assert mode.describe() == "renumbering,documented"
    assert TenantMode.parse("default") == TenantMode()
    with pytest.raises(ValueError, match="bogus"):
        TenantMode.parse("bogus")
