"""Figure 7, verify: `sync-job verify` over 10,000 orders (100 invoice-list pages).

A finished mirror is seeded first, in process: 10,000 orders over two days recorded by the engine's
own recording, 50 of them still unpaid, and for each paid one its invoice in the DealPOS simulator
and its ledger row, so DealPOS holds 9,950 invoices = 100 list pages (the last one short, so the
list ends without a call past it). Then the command runs in a
subprocess; its peak RSS is read from its own rusage (bench/peak_rss.py). The DealPOS simulator
counts the calls: list pages ÷ ⌈invoices ÷ 100⌉ must be 1.00, plus at most one token call.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import harness
from bench.report import Line, ratio
from sync_job.domain.flow import InvoiceState
from sync_job.domain.invoice import expected_total, invoice_date, line_summary
from sync_job.domain.orders import Order, parse_order
from sync_job.engine.record import record_orders
from sync_job.engine.shop import ShopContext
from sync_job.sandbox.dealpos_sim import DealposSimulator
from sync_job.service.app import shop_context
from sync_job.service.config import Config, load_config
from sync_job.state.ledger import LedgerRow
from sync_job.state.store import Store
from sync_job.state.verifications import last_verify

TARGET_MB = 150
DAYS = 2
PAGE_SIZE = 100
LIST = "POST /api/v3/Invoice/MultipleOutlet"
TOKEN = "POST /api/v3/Token/OAuth2"


def sizes(quick: bool) -> tuple[int, int]:
    """(orders, of which unpaid)."""
    return (1_000, 5) if quick else (10_000, 50)


def _calls(dealpos: DealposSimulator, endpoint: str) -> int:
    return dealpos.calls.count(endpoint)


def _mirror(
    orders: int, unpaid: int, now: int
) -> tuple[harness.TimedDealpos, Path, ZoneInfo, float]:
    """The DealPOS simulator and a state DB holding a finished mirror (set-up seconds last).

    Seeded in process as the engine leaves a mirror (snapshot, ledger, an empty outbox, one
    invoice per paid order), not pushed over HTTP: the figure is about verify, and pushing 10,000
    creates first would take minutes.
    """
    started = time.monotonic()
    tiktok, dealpos = harness.start_tiktok(), harness.start_dealpos()
    gen = harness.generator(tiktok, time.time, seed=orders)
    first, step = now - DAYS * 86400, (DAYS * 86400 - 600) / orders
    for n in range(orders):
        status = "UNPAID" if n % (orders // unpaid) == 0 else "AWAITING_SHIPMENT"
        gen.new_order(status=status, update_time=int(first + n * step))
    root = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    data = harness.settings(tiktok, dealpos, root / "sync.db")
    config_path = root / "config.toml"
    config_path.write_text(harness.toml_text(data))
    config = harness.make_config(data)
    _seed(config, dealpos, tiktok.orders(harness.SHOP))
    tiktok.stop()  # verify never reads TikTok
    return dealpos, config_path, config.sync.tz, time.monotonic() - started


def _seed(config: Config, dealpos: DealposSimulator, raws: list[dict[str, Any]]) -> None:
    """Record the orders as a run does, then mark every create done with its invoice made."""
    shop = shop_context(config, config.tiktok.shops[0], "realtime")
    store = Store.open(config.state.path)
    try:
        for n in range(0, len(raws), PAGE_SIZE):
            record_orders(store, shop, raws[n : n + PAGE_SIZE])
        with store.transaction("invoice every order"):
            for raw in raws:
                _invoice(store, shop, dealpos, parse_order(raw))
    finally:
        store.close()


def _invoice(store: Store, shop: ShopContext, dealpos: DealposSimulator, order: Order) -> None:
    if not store.get_outbox_for_order(shop.shop_id, order.id):
        return  # unpaid: no invoice wanted
    s = shop.settings
    invoice = dealpos.tamper(
        {
            "action": "add",
            "number": s.number_for(order.id),
            "reference": order.id,
            "amount": str(expected_total(order, s)),
            "date": invoice_date(order, s.timezone),
            "tag": s.tag,
        }
    )
    state = InvoiceState("active", "Unsent", "Unpaid")
    store.put_ledger(
        shop.shop_id, order.id, LedgerRow(invoice.number, invoice.id, state, line_summary(order))
    )
    store.replace_outbox(shop.shop_id, order.id, [], "pending")


def run(quick: bool) -> list[Line]:
    """Calls ÷ pages, wall time and peak RSS of the verify command."""
    orders, unpaid = sizes(quick)
    now = int(time.time())
    dealpos, config_path, tz, setup = _mirror(orders, unpaid, now)
    with harness.running(dealpos):
        invoices = len(dealpos.invoices())
        first = datetime.fromtimestamp(now - (DAYS + 1) * 86400, tz).strftime("%Y-%m-%d")
        lists, tokens = _calls(dealpos, LIST), _calls(dealpos, TOKEN)
        stderr = config_path.parent / "stderr.log"
        command = harness.run_command(config_path, "verify", "--from", first, stderr=stderr)
        lists, tokens = _calls(dealpos, LIST) - lists, _calls(dealpos, TOKEN) - tokens
    pages = math.ceil(invoices / PAGE_SIZE)
    found = _last_findings(config_path)
    return [
        Line(
            "verify_calls_per_page",
            ratio(lists / pages),
            f"target exactly 1.00; {lists} list calls for {invoices:,} invoices = {pages} pages, "
            f"{tokens} token call(s); {orders:,} orders; exit {command.code}, findings {found}",
            lists == pages and tokens <= 1 and command.code == 0,
        ),
        Line(
            "verify_peak_rss_mb",
            f"{command.peak_rss_mb:.0f}",
            f"target <= {TARGET_MB}; sync-job verify over {orders:,} orders",
            command.peak_rss_mb <= TARGET_MB,
        ),
        Line(
            "verify_seconds",
            f"{command.seconds:.1f}",
            f"the whole command (start-up included), {invoices:,} invoices compared",
        ),
        Line("verify_setup_seconds", f"{setup:.0f}", "seeding the mirror in process"),
    ]


def _last_findings(config_path: Path) -> str:
    """The findings of the verify just run, from its record in the state DB."""
    config = load_config(config_path, env={})
    store = Store.open(config.state.path)
    try:
        record = last_verify(store, harness.SHOP)
    finally:
        store.close()
    return json.dumps(record.findings) if record is not None else "none recorded"
