"""The tenant_findings table: how this DealPOS tenant behaves where the API docs are silent.

Written by `sync-job probe` (and by the pusher when a create comes back renumbered); read by the
job to adapt, e.g. a tenant that renumbers invoices is looked up by ReferenceNumber.
"""

from __future__ import annotations

from sync_job.state.store import Store


def record_tenant_finding(store: Store, key: str, value: str, source: str) -> None:
    """Remember one finding (the newest wins), e.g. ("numbering", "renumbers", "probe")."""
    with store.transaction("record a tenant finding"):
        store.db.execute(
            "INSERT OR REPLACE INTO tenant_findings (key, value, source, updated_at) "
            "VALUES (?, ?, ?, ?)",
            (key, value, source, store.now()),
        )


def tenant_findings(store: Store) -> dict[str, str]:
    """Every finding as key → value."""
    rows = store.db.execute("SELECT key, value FROM tenant_findings").fetchall()
    return {str(key): str(value) for key, value in rows}
