"""Tampering with the DealPOS simulator the way a person would, through its inspection API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from sync_job.domain import jsonutil
from sync_job.sandbox import DealposSimulator, tamper_demo
from tests.sandbox.conftest import invoice_body


def tamper(http: requests.Session, sim: DealposSimulator, **body: Any) -> requests.Response:
    """POST /_sandbox/tamper."""
    return http.post(sim.url + "/_sandbox/tamper", data=jsonutil.dumps(body), timeout=5)


@pytest.fixture
def made(dealpos: DealposSimulator) -> DealposSimulator:
    """The simulator holding TT-1 (Unsent, Unpaid, total 130500.50), made as the job would."""
    dealpos.tamper({"action": "add", "number": "seed"})  # something else in the book too
    dealpos._book.create(invoice_body())  # set-up, not the API under test
    return dealpos


def test_delete_erases_the_invoice_entirely(http: requests.Session, made: DealposSimulator) -> None:
    """Gone from the book, the recycle bin included; the answer shows what was erased."""
    r = tamper(http, made, action="delete", number="TT-1")
    assert r.status_code == 200 and r.json()["number"] == "TT-1"
    assert made.invoice("TT-1") is None


def test_recycle_and_restore(http: requests.Session, made: DealposSimulator) -> None:
    """To the recycle bin and back, as a person does in the back office."""
    assert tamper(http, made, action="recycle", number="TT-1").json()["status"] == "Cancelled"
    assert tamper(http, made, action="restore", number="TT-1").json()["status"] == "Active"
    invoice = made.invoice("TT-1")
    assert invoice is not None and invoice.status == "Active"


def test_pay_by_hand_pays_the_balance(http: requests.Session, made: DealposSimulator) -> None:
    """The remaining balance is paid; paying again is refused."""
    answer = tamper(http, made, action="pay", number="TT-1").json()
    assert (answer["payment"], answer["paid"]) == ("Paid", 130500.50)
    assert tamper(http, made, action="pay", number="TT-1").status_code == 400


def test_amount_edits_the_first_line(http: requests.Session, made: DealposSimulator) -> None:
    """The invoice totals the amount asked for; the first line's price carries the change."""
    r = tamper(http, made, action="amount", number="TT-1", amount="140500.50")
    assert r.status_code == 200
    invoice = made.invoice("TT-1")
    assert invoice is not None and invoice.total == Decimal("140500.50")
    assert invoice.lines[0].price == Decimal("64000")
    odd = tamper(http, made, action="amount", number="TT-1", amount="140501.50")
    assert odd.status_code == 400 and "does not split" in odd.json()["Message"]


def test_add_types_a_new_tagged_invoice(http: requests.Session, made: DealposSimulator) -> None:
    """A hand-made invoice with a reference, tag and amount of the person's choosing."""
    r = tamper(http, made, action="add", reference="576", number="HAND-X", amount="5000")
    assert r.status_code == 200
    invoice = made.invoice("HAND-X")
    assert invoice is not None
    assert (invoice.reference, invoice.tag, invoice.total) == ("576", "TikTok", Decimal(5000))


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"action": "explode", "number": "TT-1"}, 400, "action must be one of"),
        ({"action": "pay", "number": "TT-404"}, 404, "no invoice 'TT-404'"),
        ({"action": "amount", "number": "TT-1", "amount": "lots"}, 400, "is not a number"),
    ],
)
def test_nonsense_is_refused_with_a_message(
    http: requests.Session, made: DealposSimulator, body: dict[str, Any], status: int, words: str
) -> None:
    """A bad tamper request changes nothing and says why."""
    r = tamper(http, made, **body)
    assert r.status_code == status and words in r.json()["Message"]
    invoice = made.invoice("TT-1")
    assert invoice is not None and invoice.payment_status == "Unpaid"


def test_tampering_is_not_an_api_call(http: requests.Session, made: DealposSimulator) -> None:
    """The inspection API costs no quota and is not counted as a DealPOS call."""
    tamper(http, made, action="pay", number="TT-1")
    assert made.calls.count() == 0


def test_sandbox_tamper_demo_makes_one_edit_per_finding(dealpos: DealposSimulator) -> None:
    """`sandbox --tamper`: four of the job's unpaid invoices, five edits, one per finding kind."""
    for n in range(1, 6):
        dealpos._book.create(invoice_body(f"TT-{n}"))  # set-up, not the API under test
    dealpos.tamper({"action": "pay", "number": "TT-1"})  # already paid: not a victim
    victims = tamper_demo.pick_victims(dealpos.invoices())
    assert [v.number for v in victims] == ["TT-2", "TT-3", "TT-4", "TT-5"]
    lines = tamper_demo.tamper_like_a_person(dealpos, victims)
    assert [ln.split()[-1] for ln in lines] == [
        "missing",
        "state",
        "total",
        "duplicate",
        "unexpected",
    ]
    assert dealpos.invoice("TT-2") is None
    paid = dealpos.invoice("TT-3")
    assert paid is not None and paid.payment_status == "Paid"
    assert len(dealpos.by_reference()["5"]) == 2
    assert tamper_demo.UNKNOWN_REFERENCE in dealpos.by_reference()
