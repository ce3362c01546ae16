"""The operator page through Flask's test client over a real state file: content, escaping,
query validation, paging, and that it never shows a secret."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from sync_job.service.config import ShopConfig
from sync_job.service.web import create_app
from sync_job.state.store import Store
from sync_job.state.verifications import VerifyRecord, record_verify
from tests.web.pagestate import HOSTILE, SHOP, TOKEN, fill, settings

PAGE = f"/shop/{SHOP}"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A filled state file."""
    path = tmp_path / "sync.db"
    fill(path).close()
    return path


def client(path: Path, **changes: object) -> FlaskClient:
    """A test client of the page over `path`."""
    return create_app(settings(path, **changes)).test_client()  # type: ignore[arg-type]


def text(client: FlaskClient, url: str, status: int = 200) -> str:
    """GET `url`, check the status, return the HTML."""
    response = client.get(url)
    assert response.status_code == status, response.data[:500]
    return response.get_data(as_text=True)


def test_page_shows_health_work_quarantine_and_invoices(state: Path) -> None:
    """Every section carries the state's content, money as merchants write it, times local."""
    html = text(client(state), PAGE)
    assert "refused 0" in html  # the attention item
    assert "5990001" in html and "NO-SUCH-SKU" in html  # the quarantined order and its error
    assert "TT-5770000000000000001" in html
    assert "Rp 359.900" in html  # IDR with dots, no decimals
    assert "in transit" in html  # TikTok status beside the invoice
    assert "7 of 50" not in html  # the run ended 10 min ago: outside the 3 min quota window
    assert "7 DealPOS calls" in html
    assert "14:50" in html  # started 07:50 UTC = 14:50 in Asia/Jakarta
    assert "none received" in html and "never run" in html  # no webhook, no verify yet


def test_single_shop_root_redirects_to_its_page(state: Path) -> None:
    """/ goes straight to the only shop."""
    response = client(state).get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith(PAGE)


def test_hostile_order_data_is_escaped(state: Path) -> None:
    """A product name or DealPOS error with <script> comes back as text, and no script runs."""
    response = client(state).get(PAGE)
    html = response.get_data(as_text=True)
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "query",
    [
        "a_page=0",
        "a_page=abc",
        "i_page=99999999999999999999",
        "i_state=<script>",
        "i_status=PAID';DROP TABLE ledger;--",
        "a_kind=<b>x</b>",
        "i_q=%3Cscript%3Ealert(1)%3C/script%3E",
        "a_resolved=yes",
    ],
)
def test_hostile_query_strings_get_400_without_echo(state: Path, query: str) -> None:
    """A bad parameter is a 400 naming the parameter; the value is never echoed raw."""
    html = text(client(state), f"{PAGE}?{query}", 400)
    assert query.split("=")[0] in html
    assert "<script>" not in html and "<b>x</b>" not in html


def test_unknown_shop_is_404(state: Path) -> None:
    """Only configured shops have a page."""
    text(client(state), "/shop/123", 404)


def test_filters_narrow_the_invoice_list(state: Path) -> None:
    """State, TikTok status and search filters each pick the right invoices."""
    c = client(state)
    assert "TT-5770000000000000002" in text(c, f"{PAGE}?i_state=Sent%2BUnpaid")
    assert "No invoices match this filter" in text(c, f"{PAGE}?i_state=recycled")
    assert "No invoices match" in text(c, f"{PAGE}?i_status=DELIVERED")
    one = text(c, f"{PAGE}?i_q=5770000000000000001")
    assert "TT-5770000000000000001" in one and "TT-5770000000000000002" not in one


def test_lists_are_paged(tmp_path: Path) -> None:
    """45 items: page 1 has 20 and a link to page 2; page 3 has the last 5 and no next link."""
    path = tmp_path / "sync.db"
    fill(path, invoices=45, attention=45).close()
    c = client(path)
    first = text(c, PAGE)
    assert len(re.findall(r'data-label="Kind"', first)) == 20
    assert "a_page=2" in first and "i_page=2" in first
    last = text(c, f"{PAGE}?a_page=3")
    assert len(re.findall(r'data-label="Kind"', last)) == 5
    assert "a_page=4" not in last and "a_page=2" in last
    assert ">45<" in first  # the open count


def test_no_state_file_yet_says_so(tmp_path: Path) -> None:
    """Before the first run there is no file: the page explains instead of failing."""
    html = text(client(tmp_path / "none.db"), PAGE)
    assert "No state yet" in html
    assert not (tmp_path / "none.db").exists()  # the page never creates the file


class Interrupted(Exception):
    """Ends a unit of work without committing it."""


def test_page_reads_while_a_cycle_holds_a_write_transaction(state: Path) -> None:
    """The read-only connection is not blocked by a cycle in the middle of its writes."""
    writer = Store.open(state)
    with pytest.raises(Interrupted), writer.transaction("held open while the page reads"):
        writer.raise_attention(SHOP, "1", "rejected", "held", "written but not committed")
        html = text(client(state), PAGE)
        raise Interrupted  # undo the unit
    writer.close()
    assert "refused 0" in html and "written but not committed" not in html


def test_no_secret_on_any_page(state: Path) -> None:
    """The admin token never appears, signed in or not, on the page or its errors."""
    c = client(state)
    pages = [text(c, PAGE), text(c, "/shop/x", 404), text(c, f"{PAGE}?a_page=0", 400)]
    c.get(PAGE)
    with c.session_transaction() as session:
        csrf = session["csrf"]
    c.post("/sign-in", data={"csrf": csrf, "token": TOKEN, "next": PAGE})
    pages.append(text(c, PAGE))
    assert "Sign out" in pages[-1]
    assert not any(TOKEN in page for page in pages)


def test_last_webhook_and_last_verify_come_from_their_tables(state: Path) -> None:
    """The inbox's newest delivery and the newest verify (with its findings) show in health."""
    store = Store.open(state)
    with store.transaction("fill the page's state"):
        store.db.execute(
            "INSERT INTO webhook_inbox (notification_id, shop_id, type, received_at) "
            "VALUES ('n1', ?, 1, ?)",
            (SHOP, 1_800_000_000.0 - 300),
        )
    record_verify(
        store,
        VerifyRecord(SHOP, "daily", "2027-01-14", "2027-01-14", "2027-01-15T00:10:00+00:00",
                     "2027-01-15T00:11:00+00:00", "ok", findings={"missing": 2, "state": 1}),
    )  # fmt: skip
    store.close()
    html = text(client(state), PAGE)
    assert "14:55" in html  # the webhook, 5 min before 15:00 Jakarta
    assert "3 finding(s)" in html and "2027-01-14" in html


def test_old_state_without_webhook_or_verify_tables_says_not_available(state: Path) -> None:
    """A state file from before those features: health says "not available", never fails."""
    store = Store.open(state)
    store.db.execute("DROP TABLE webhook_inbox")
    store.db.execute("DROP TABLE verify_runs")
    store.close()
    html = text(client(state), PAGE)
    assert html.count("not available") == 2


def test_several_shops_get_an_overview_and_a_page_each(state: Path) -> None:
    """With two shops, / lists both (last run, open items, stopped orders) with links."""
    shops = (ShopConfig(SHOP, "c", "Online Store"), ShopConfig("1002", "c2", "Mall Outlet"))
    html = text(client(state, shops=shops), "/")
    assert f'href="/shop/{SHOP}"' in html and 'href="/shop/1002"' in html
    assert "Mall Outlet" in html  # the header names each shop's outlet
    assert "No invoices" in text(client(state, shops=shops), "/shop/1002")


def test_quota_comes_from_the_shared_call_log(state: Path) -> None:
    """Calls in the window (done or in flight) of this tenant, and a hold DealPOS imposed."""
    store = Store.open(state)
    now = 1_800_000_000.0
    with store.transaction("fill the chart"):
        rows = [("t1", now - 10, 1), ("t1", now - 100, 1), ("t1", now - 1, 0), ("t1", now - 900, 1),
                ("other", now - 5, 1)]  # fmt: skip
        store.db.conn.executemany(
            "INSERT INTO quota_calls (tenant, at, done) VALUES (?, ?, ?)", rows
        )
        store.db.execute("INSERT INTO quota_holds VALUES ('t1', ?)", (now + 60,))
    store.close()
    html = text(client(state, tenant="t1"), PAGE)
    assert "3 of 50" in html  # two done within 180 s and one in flight; not the old one or "other"
    assert "DealPOS asked to wait until 15:01" in html


def test_quota_falls_back_to_run_counts_on_an_older_state_file(state: Path) -> None:
    """Without the shared log, the calls of runs that ended within the window are counted."""
    store = Store.open(state, clock=lambda: 1_800_000_000.0 - 30)
    store.start_run("r2", SHOP, "realtime")
    store.finish_run("r2", "ok", {"dealpos_calls": 9}, None)
    store.db.execute("DROP TABLE quota_calls")
    store.close()
    assert "9 of 50" in text(client(state), PAGE)


def test_a_state_file_still_being_created_is_no_state_yet(tmp_path: Path) -> None:
    """The first run has created the file but not its tables: "No state yet", not a 500."""
    path = tmp_path / "sync.db"
    sqlite3.connect(path).close()
    assert "No state yet" in text(client(path), PAGE)


def test_a_locked_state_file_is_a_503_that_says_so(state: Path) -> None:
    """A state file SQLite cannot read right now is a 503 with a sentence, never a bare 500."""
    holder = sqlite3.connect(state, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")  # what switching a new file's journal mode looks like
    try:
        html = text(client(state), PAGE, 503)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "busy" in html
