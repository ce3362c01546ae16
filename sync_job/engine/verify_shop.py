"""Gather one shop's verify: the orders in range (snapshot, ledger, outbox) and DealPOS's list.

DealPOS calls: only the invoice list's pages (plus a token when the client has none).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sync_job.domain.errors import SyncError
from sync_job.domain.flow import NOTHING, InvoiceState, plan_reaches
from sync_job.domain.invoice import InvoiceProblem, expected_total, line_summary
from sync_job.domain.orders import BadOrder, Order, parse_order
from sync_job.engine.plan import desired_for
from sync_job.engine.ports import InvoicePages, iter_invoices
from sync_job.engine.shop import ShopContext
from sync_job.engine.verify import Expected, Finding, Seen, count_by_kind, find_drift, is_drift
from sync_job.state.store import Store


class ListedInvoice(Protocol):
    """One row of DealPOS's invoice list as the client types it (dealpos.md, invoice list)."""

    @property
    def id(self) -> str: ...
    @property
    def number(self) -> str: ...
    @property
    def reference(self) -> str: ...
    @property
    def amount(self) -> Decimal | None: ...
    def state(self) -> InvoiceState:
        """Recycled, or active with fulfilment and payment."""
        ...


# The DealPOS call verify makes: the invoice list's pages, rows typed as above.
InvoiceLister = InvoicePages[ListedInvoice]


@dataclass
class ShopVerify:
    """One shop's verify: what was compared, what differed, what it cost."""

    shop_id: str
    first: date
    last: date
    orders: int = 0
    invoices: int = 0
    findings: list[Finding] = field(default_factory=list)
    dealpos_calls: int = 0
    error: str | None = None
    repaired: int = 0  # fixable findings put into the outbox
    raised: int = 0  # findings turned into attention items
    resolved: int = 0  # attention items of earlier verifies whose drift is gone
    checked: set[str] = field(default_factory=set)  # order ids and listed references/numbers

    @property
    def drift(self) -> list[Finding]:
        """The findings that mean DealPOS is wrong (pending ones left out)."""
        return [f for f in self.findings if is_drift(f)]

    def counts(self) -> dict[str, int]:
        """Findings by kind."""
        return count_by_kind(self.findings)

    def as_dict(self) -> dict[str, Any]:
        """The shop's part of `verify --json`."""
        return {
            "id": self.shop_id,
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "orders": self.orders,
            "invoices": self.invoices,
            "findings": [f.as_dict() for f in self.findings],
            "dealpos_calls": self.dealpos_calls,
            "error": self.error,
        }


def iter_listed(
    lister: InvoiceLister, outlet: str, tag: str, first: date, last: date
) -> Iterator[Seen]:
    """Every listed invoice, as verify compares it."""
    for row in iter_invoices(lister, outlet, tag, (first.isoformat(), last.isoformat())):
        yield Seen(row.id, row.number, row.reference, row.amount, row.state())


def day_range(first: date, last: date, shop: ShopContext) -> tuple[int, int]:
    """[start of `first`, start of the day after `last`) in the shop's timezone, Unix seconds."""
    tz = shop.settings.timezone
    start = datetime.combine(first, time.min, tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tz)
    return int(start.timestamp()), int(end.timestamp())


def expect_order(store: Store, shop: ShopContext, order: Order) -> Expected | None:
    """What DealPOS should show for one order now (None: unknown status, nothing to check)."""
    desired = desired_for(store, shop, order)
    if desired is None:
        return None
    ledger = store.get_ledger(shop.shop_id, order.id)
    known = ledger.state if ledger else NOTHING
    # Forward only, from what the job did: a download run's payment is not drift.
    target = plan_reaches(known, desired)
    return Expected(
        order.id,
        ledger.number if ledger else shop.settings.number_for(order.id),
        target,
        _sent_total(shop, order, ledger.lines if ledger else None),
        created=ledger is not None and ledger.state.existence != "none",
        invoice_id=ledger.invoice_id if ledger else None,
        pending=bool(store.get_outbox_for_order(shop.shop_id, order.id)),
    )


def _sent_total(shop: ShopContext, order: Order, invoiced: dict[str, int] | None) -> Decimal | None:
    """The amount the invoice was made with; None when it cannot be known from the order now."""
    if invoiced is not None and invoiced != line_summary(order):
        return None  # lines cancelled after the invoice was made: a partial_cancel item says so
    try:
        return expected_total(order, shop.settings)
    except InvoiceProblem:
        return None


def expected_in_range(store: Store, shop: ShopContext, start: int, end: int) -> dict[str, Expected]:
    """Every order of the shop whose invoice time falls in [start, end), with what it expects."""
    out: dict[str, Expected] = {}
    for _oid, _status, raw in store.iter_orders_invoiced_between(shop.shop_id, start, end):
        try:
            order = parse_order(raw)
        except BadOrder:
            continue  # quarantined when recorded, with an attention item
        exp = expect_order(store, shop, order)
        if exp is not None:
            out[order.id] = exp
    return out


def _add_known_references(
    store: Store, shop: ShopContext, expected: dict[str, Expected], seen: Iterable[Seen]
) -> None:
    """Listed invoices of known orders paid outside the range are checked too, not unexpected."""
    for reference in {s.reference for s in seen} - set(expected):
        raw = store.get_order_raw(shop.shop_id, reference) if reference else None
        if raw is None:
            continue
        try:
            exp = expect_order(store, shop, parse_order(raw))
        except BadOrder:
            continue
        if exp is not None:
            expected[reference] = exp


def verify_shop(
    store: Store,
    lister: InvoiceLister,
    shop: ShopContext,
    first: date,
    last: date,
    calls: Callable[[], int] = lambda: 0,
) -> ShopVerify:
    """Compare one shop's orders in [first, last] with DealPOS's list; never raises for remote
    trouble (the result's `error` says what went wrong)."""
    result = ShopVerify(shop.shop_id, first, last)
    before = calls()
    try:
        expected = expected_in_range(store, shop, *day_range(first, last, shop))
        result.orders = len(expected)
        s = shop.settings
        seen = list(iter_listed(lister, s.outlet, s.tag, first, last))
        result.invoices = len(seen)
        _add_known_references(store, shop, expected, seen)
        result.findings = find_drift(expected, seen)
        result.checked = set(expected) | {s.reference for s in seen} | {s.number for s in seen}
    except (SyncError, ValueError) as exc:  # ValueError: an answer that is not an invoice list
        result.error = str(exc)
    finally:
        result.dealpos_calls = calls() - before
    return result
