"""The tenant_findings table: what this DealPOS tenant was found to do."""

from __future__ import annotations

from pathlib import Path

from sync_job.state.store import Store
from sync_job.state.tenant import record_tenant_finding, tenant_findings


def test_findings_are_kept_per_key_newest_wins_and_survive_reopening(tmp_path: Path) -> None:
    """A probe's finding replaces an older one of the same key; others stay."""
    path = tmp_path / "sync.db"
    store = Store.open(path)
    assert tenant_findings(store) == {}
    record_tenant_finding(store, "numbering", "kept", "probe")
    record_tenant_finding(store, "delete", "recycle", "probe")
    record_tenant_finding(store, "numbering", "renumbers", "push")
    store.close()
    store = Store.open(path)
    assert tenant_findings(store) == {"numbering": "renumbers", "delete": "recycle"}
    store.close()
