"""The tenant_findings table: how this DealPOS tenant behaves where the API docs are silent.

Written by `sync-job probe` and by the pusher (a create answered with another Number; which field
names a lookup used); read by the job to adapt, e.g. a lost create on a tenant that renumbers
invoices is looked up by ReferenceNumber. One row per key, the newest finding wins:

- `numbering`: `kept` (our Number stays) or `renumbers` (the tenant numbers invoices itself).
- `detail_fields`: `documented` (`Payment` / `Delivery`) or `legacy` (`PaymentStatus`, ...).
- `delete`: `recycle` (the invoice goes to the recycle bin) or `erase`.
"""

from __future__ import annotations

from sync_job.state.store import Store

NUMBERING = "numbering"
DETAIL_FIELDS = "detail_fields"
DELETE = "delete"
RENUMBERS = "renumbers"
KEPT = "kept"


def record_tenant_finding(store: Store, key: str, value: str, source: str) -> None:
    """Remember one finding (the newest wins), e.g. ("numbering", "renumbers", "probe")."""
    with store.transaction("record a tenant finding"):
        store.db.execute(
            "INSERT OR REPLACE INTO tenant_findings (key, value, source, updated_at) "
            "VALUES (?, ?, ?, ?)",
            (key, value, source, store.now()),
        )


def note_tenant_finding(store: Store, key: str, value: str, source: str) -> None:
    """Record a finding only when it is news (the pusher notes one per create or lookup)."""
    if tenant_finding(store, key) != value:
        record_tenant_finding(store, key, value, source)


def tenant_findings(store: Store) -> dict[str, str]:
    """Every finding as key → value."""
    rows = store.db.execute("SELECT key, value FROM tenant_findings").fetchall()
    return {str(key): str(value) for key, value in rows}


def tenant_finding(store: Store, key: str) -> str | None:
    """The newest value found for `key`, or None when nothing was found yet."""
    row = store.db.execute("SELECT value FROM tenant_findings WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def renumbers(store: Store) -> bool:
    """Whether this tenant is known to give invoices its own Numbers."""
    return tenant_finding(store, NUMBERING) == RENUMBERS
