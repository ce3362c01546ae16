"""A state database with something of everything the operator page shows, for the page's tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sync_job.domain.flow import Action, InvoiceState
from sync_job.service.config import Secret, ShopConfig
from sync_job.service.web import PageSettings
from sync_job.state.ledger import LedgerRow
from sync_job.state.store import Store
from tests.factories import line, order

SHOP = "7495000000000000042"
NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
TOKEN = "page-admin-token-QX7Z9"
HOSTILE = "<script>alert(1)</script>"


def settings(path: Path, *, token: str | None = TOKEN, **changes: Any) -> PageSettings:
    """Page settings for one shop over the state file at `path`."""
    values: dict[str, Any] = {
        "state_path": path,
        "shops": (ShopConfig(SHOP, "cipher", "Online Store"),),
        "timezone": "Asia/Jakarta",
        "interval_seconds": 60,
        "rate_limit": 50,
        "rate_window_seconds": 180,
        "admin_token": None if token is None else Secret(token),
        "clock": lambda: NOW,
        **changes,
    }
    return PageSettings(**values)


def fill(path: Path, *, invoices: int = 3, attention: int = 1) -> Store:
    """Write invoices (one with a hostile product name), attention items, a quarantine and runs."""
    store = Store.open(path, clock=lambda: NOW - 600)
    with store.transaction("fill the page's state"):
        for i in range(invoices):
            oid = f"57700000000000{i:05d}"
            name = HOSTILE if i == 0 else f"Kaos Polos {i}"
            raw = order("IN_TRANSIT", order_id=oid, lines=[line("KAOS", "359900", name=name)])
            raw["payment"]["total_amount"] = "359900"
            store.record_order(SHOP, oid, "IN_TRANSIT", int(NOW) - 3600, "h", raw)
            state = InvoiceState("active", "Sent", "Unpaid")
            store.put_ledger(SHOP, oid, LedgerRow(f"TT-{oid}", f"g-{i}", state, None))
        for i in range(attention):
            store.raise_attention(SHOP, f"5880000{i:04d}", "rejected", f"k{i}", f"refused {i}")
        store.replace_outbox(SHOP, "5990001", [Action("create")], "pending")
        row = store.get_outbox_for_order(SHOP, "5990001")[0]
        store.quarantine(row, f"Variant code 'NO-SUCH-SKU' not found {HOSTILE}")
    store.start_run("r1", SHOP, "realtime")  # a unit of its own: units never nest
    store.finish_run("r1", "ok", {"dealpos_calls": 7, "fetched": 3}, None)
    return store
