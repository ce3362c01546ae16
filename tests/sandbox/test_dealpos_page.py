"""The DealPOS simulator's watch page: paged, counted per state, money and numbers that read
well on a phone, the TikTok status and the work items beside DealPOS's own view."""

from __future__ import annotations

import re
from decimal import Decimal

from sync_job.sandbox.dealpos_page import PER_PAGE, PageExtras, PageView, render
from sync_job.sandbox.invoices import Invoice, InvoiceLine

HOSTILE = "<script>alert(1)</script>"


def invoice(n: int, *, status: str = "Active", fulfillment: str = "Unsent") -> Invoice:
    """An invoice TT-n for order n with one line of Rp 359.900."""
    line = InvoiceLine(f"KAOS-{n}", HOSTILE, 1, Decimal("359900"), Decimal(0))
    return Invoice(str(n), f"TT-{n}", "Online Store", str(n), "2026-11-30", "TikTok", "", {},
                   (line,), fulfillment=fulfillment, status=status)  # fmt: skip


def view(**extras: object) -> PageView:
    """The simulator's numbers: 12 of 50 calls used in this window."""
    return PageView(100, 2, 12, 50, 180.0, PageExtras(**extras))  # type: ignore[arg-type]


BOOK = [invoice(n, fulfillment="Sent" if n % 3 == 0 else "Unsent") for n in range(1, 121)]
BOOK[4] = invoice(5, status="Cancelled")


def test_page_one_is_the_newest_fifty_with_counts_per_state() -> None:
    """120 invoices: 50 on the first page, newest first, counts per state, quota used."""
    html = render(BOOK, view(), {})
    numbers = re.findall(r"TT-(\d+)</td>", html)
    assert len(numbers) == PER_PAGE and numbers[0] == "120" and numbers[-1] == "71"
    assert 'Sent · Unpaid <span class="num">40</span>' in html
    assert 'recycle bin <span class="num">1</span>' in html
    assert "12 of 50" in html and "page 1 of 3" in html
    assert '<meta name="viewport"' in html and 'http-equiv="refresh"' in html
    assert "Rp 359.900" in html


def test_later_pages_and_a_state_filter() -> None:
    """?page=3 holds the oldest 20 and does not reload itself; ?state= shows only that state."""
    last = render(BOOK, view(), {"page": "3"})
    assert len(re.findall(r"TT-\d+</td>", last)) == 20 and 'http-equiv="refresh"' not in last
    binned = render(BOOK, view(), {"state": "recycle bin"})
    assert re.findall(r"TT-(\d+)</td>", binned) == ["5"]
    assert render(BOOK, view(), {"page": "x<script>", "state": "<b>"}).count("TT-") > 0


def test_tiktok_status_and_attention_come_from_the_runner() -> None:
    """Each invoice shows its order's TikTok status; open work items are listed, escaped."""
    items = [{"kind": "rejected", "order_id": "9", "message": f"refused {HOSTILE}"}]
    html = render(
        BOOK,
        view(tiktok_status=lambda ref: "IN_TRANSIT", attention=lambda: items,
             operator_url="http://127.0.0.1:8081/"),
        {},
    )  # fmt: skip
    assert "in transit" in html and "refused &lt;script&gt;" in html
    assert 'href="http://127.0.0.1:8081/"' in html
    assert HOSTILE not in html
