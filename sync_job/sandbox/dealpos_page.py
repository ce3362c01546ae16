"""The DealPOS simulator's watch page: one page of invoices with counts per state, the TikTok
status beside each, the calls used against the quota, and the work items a person must handle.

Rendered by a Jinja2 template with autoescaping (order data is user input), like the operator
page. The extras (TikTok status, attention items, the operator page's address) come from the
sandbox runner, which knows the TikTok simulator and the state file; without them the page shows
DealPOS's own view only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from sync_job.sandbox.invoices import Invoice
from sync_job.service.web.present import money

__all__ = ["PageExtras", "PageView", "render"]

PER_PAGE = 50
_ENV = Environment(
    loader=PackageLoader("sync_job.sandbox", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)


def _no_status(reference: str) -> str | None:
    return None


@dataclass(frozen=True)
class PageExtras:
    """What the sandbox runner adds to DealPOS's own view."""

    tiktok_status: Callable[[str], str | None] = _no_status
    attention: Callable[[], list[dict[str, Any]]] = list
    operator_url: str | None = None


@dataclass(frozen=True)
class PageView:
    """The simulator's numbers the page shows besides the invoices."""

    calls: int
    rate_limited: int
    window_used: int
    limit: int
    window_seconds: float
    extras: PageExtras = field(default_factory=PageExtras)


def state_name(invoice: Invoice) -> str:
    """One word per invoice state, the way the page counts and filters them."""
    if invoice.status != "Active":
        return "recycle bin"
    return f"{invoice.fulfillment} · {invoice.payment_status}"


def rupiah(amount: Any) -> str:
    """`Rp 359.900`, as the operator page writes it (the simulator's tenant is IDR)."""
    return money(amount, "IDR")


def render(invoices: Sequence[Invoice], view: PageView, query: Mapping[str, str]) -> str:
    """Render one page (`?page=N`, `?state=...`) of the invoices, newest first."""
    counts: dict[str, int] = {}
    for invoice in invoices:
        counts[state_name(invoice)] = counts.get(state_name(invoice), 0) + 1
    wanted = query.get("state") if query.get("state") in counts else None
    shown = [i for i in reversed(invoices) if wanted is None or state_name(i) == wanted]
    pages = max(1, -(-len(shown) // PER_PAGE))
    page = int(query["page"]) if query.get("page", "").isdigit() else 1
    page = min(max(page, 1), pages)
    rows = shown[(page - 1) * PER_PAGE : page * PER_PAGE]
    template = _ENV.get_template("dealpos_page.html")
    return template.render(
        rows=rows,
        total=len(invoices),
        counts=sorted(counts.items()),
        state=wanted,
        page=page,
        pages=pages,
        view=view,
        attention=view.extras.attention(),
        tiktok_status=view.extras.tiktok_status,
        state_name=state_name,
        rupiah=rupiah,
    )
