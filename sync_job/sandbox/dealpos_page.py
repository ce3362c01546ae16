"""The DealPOS simulator's watch page: invoices in a table that refreshes itself."""

from __future__ import annotations

from html import escape

from sync_job.sandbox.invoices import Invoice

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
    "th{background:#f3f3f3}.Cancelled{color:#999;text-decoration:line-through}"
    ".num{text-align:right;font-variant-numeric:tabular-nums}"
)


def _row(invoice: Invoice) -> str:
    lines = ", ".join(f"{ln.quantity}× {ln.code}" for ln in invoice.lines)
    cells = [
        escape(invoice.number),
        escape(invoice.reference),
        escape(invoice.date),
        escape(invoice.status),
        escape(invoice.payment_status),
        escape(invoice.fulfillment),
        f'<span class="num">{invoice.total:,}</span>',
        escape(lines),
    ]
    tds = "".join(f"<td>{cell}</td>" for cell in cells)
    return f'<tr class="{escape(invoice.status)}">{tds}</tr>'


def render(invoices: list[Invoice], calls: int, rate_limited: int) -> str:
    """Render the page: newest invoices first, with call and 429 counts."""
    active = sum(1 for i in invoices if i.status == "Active")
    rows = "".join(_row(i) for i in reversed(invoices))
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "Number",
            "Reference",
            "Date",
            "Status",
            "Payment",
            "Fulfilment",
            "Total",
            "Lines",
        )
    )
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="2">'
        f"<title>DealPOS sandbox</title><style>{_STYLE}</style></head><body>"
        "<h1>DealPOS sandbox: invoices</h1>"
        f"<p>{len(invoices)} invoices ({active} active,"
        f" {len(invoices) - active} in the recycle bin)"
        f" · {calls} API calls · {rate_limited} answered 429 · state as JSON: "
        '<a href="/_sandbox/state">/_sandbox/state</a></p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></body></html>"
    )
