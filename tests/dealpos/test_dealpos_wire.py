"""DealPOS's wire format: invoices read with either name set, answers checked against shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sync_job.dealpos import wire
from sync_job.dealpos.wire import BadInvoiceBody, CreatedInvoice
from sync_job.domain.flow import RECYCLED, InvoiceState

ROW = {
    "ID": "6f1c",
    "Outlet": "Online Store",
    "Number": "INV/2026/00001",
    "ReferenceNumber": "576461413038785752",
    "Date": "2026-11-27",
    "Amount": "290000.50",
    "Tag": "TikTok",
    "Created": "2026-11-27T10:00:00",
}

SENT_PAID = InvoiceState("active", "Sent", "Paid")
SENT = InvoiceState("active", "Sent")


@pytest.mark.parametrize(
    ("names", "fields", "state"),
    [
        ("documented", {"Payment": "Paid", "Delivery": "Sent"}, SENT_PAID),
        ("legacy", {"PaymentStatus": "Unpaid", "FulfillmentStatus": "Sent"}, SENT),
        ("legacy", {"PaymentStatus": "Partial", "Fulfillment": "Unsent"}, InvoiceState("active")),
        (
            "documented",
            {"Payment": "Paid", "Delivery": "Returned", "Status": "Cancelled"},
            RECYCLED,
        ),
    ],
)
def test_either_name_set_reads_the_same_invoice(
    names: str, fields: dict[str, str], state: InvoiceState
) -> None:
    """Documented `Payment`/`Delivery` and the older names both read; the set seen is recorded."""
    view = wire.parse_invoice(ROW | fields)
    assert view.field_names == names
    assert view.state() == state
    assert (view.id, view.number, view.reference) == (
        "6f1c",
        "INV/2026/00001",
        ROW["ReferenceNumber"],
    )
    assert view.amount == Decimal("290000.50")
    assert (view.outlet, view.tag, view.date, view.created) == (
        "Online Store",
        "TikTok",
        "2026-11-27",
        "2026-11-27T10:00:00",
    )


@pytest.mark.parametrize(
    "raw",
    [
        ROW | {"Status": "Active"},  # neither name set: never "Unsent, Unpaid"
        ROW | {"Payment": "Paid"},  # no delivery field
        ROW | {"Delivery": "Sent"},  # no payment field
        ROW | {"Payment": "Settled", "Delivery": "Sent"},  # an unknown value
        ROW | {"Payment": "Paid", "Delivery": "Sent", "Status": "Voided"},
        {"Payment": "Paid", "Delivery": "Sent"},  # neither ID nor Number
        ["not", "an", "object"],
        None,
    ],
)
def test_an_unreadable_invoice_is_a_bad_body_with_its_first_bytes(raw: Any) -> None:
    """An answer we cannot read as an invoice raises, carrying the start of the body."""
    with pytest.raises(BadInvoiceBody) as caught:
        wire.parse_invoice(raw)
    assert caught.value.body_head
    assert "body starts" in str(caught.value)
    assert not wire.is_invoice(raw)


def test_a_list_is_read_row_by_row() -> None:
    """A list page is an array of invoices; one bad row makes the page a bad body."""
    good = ROW | {"Payment": "Unpaid", "Delivery": "Unsent"}
    assert [v.number for v in wire.parse_invoice_list([good, good])] == [ROW["Number"]] * 2
    assert wire.parse_invoice_list([]) == []
    assert not wire.is_invoice_list([good, ROW])
    assert not wire.is_invoice_list({"Data": [good]})


@pytest.mark.parametrize(
    ("check", "raw", "ok"),
    [
        (wire.is_created, {"ID": "6f1c", "Number": "18.10.00009"}, True),
        (wire.is_created, {"ID": "6f1c"}, False),
        (wire.is_created, {"Message": "Invoice is locked by another user"}, False),
        (wire.is_sent, {"ID": "x", "OrderFulfillmentState": "Sent"}, True),
        (wire.is_sent, {"Message": "Invoice is locked by another user"}, False),
        (wire.is_paid, {"Message": "Invoice 18.10.00009 has successfully completed a Paid"}, True),
        (wire.is_paid, {"Message": "Invoice is locked by another user"}, False),
        (wire.is_paid, {"ID": "x", "PaymentStatus": "Paid"}, False),
        (wire.is_deleted, "Invoice has been delete!{}", True),
        (wire.is_deleted, {"Message": "Invoice is locked by another user"}, False),
        (wire.is_deleted, None, False),
    ],
)
def test_answers_are_checked_against_their_documented_shapes(
    check: Any, raw: Any, ok: bool
) -> None:
    """Only the documented success shape counts as done; anything else is in doubt."""
    assert check(raw) is ok


def test_create_answer_keeps_dealpos_number() -> None:
    """The create's answer gives DealPOS's ID and its Number, which may not be the one sent."""
    assert wire.parse_created({"ID": "6f1c", "Number": "18.10.00009"}) == CreatedInvoice(
        "6f1c", "18.10.00009"
    )
    with pytest.raises(BadInvoiceBody):
        wire.parse_created({"Number": "18.10.00009"})


def test_delete_by_id_when_known() -> None:
    """The delete goes by DealPOS's ID when the ledger has it, else by Outlet + Number."""
    assert wire.delete_body("Online Store", "TT-1", "6f1c") == {"InvoiceID": "6f1c"}
    assert wire.delete_body("Online Store", "TT-1", None) == {
        "Outlet": "Online Store",
        "Number": "TT-1",
    }
