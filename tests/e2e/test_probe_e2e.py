"""`sync-job probe` against the DealPOS simulator in each tenant mode: it must detect the mode."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync_job.sandbox.catalogue import CATALOGUE
from sync_job.sandbox.invoices import TenantMode
from sync_job.state.store import Store
from sync_job.state.tenant import tenant_findings
from tests.e2e.conftest import Sandbox, running_sandbox

pytestmark = pytest.mark.e2e

VARIANT = CATALOGUE[0].sku


@pytest.fixture
def tenant(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """The simulators with the DealPOS tenant mode named by the test's parameter."""
    with running_sandbox(tmp_path, dealpos_mode=TenantMode.parse(request.param)) as box:
        yield box


def _findings(box: Sandbox) -> dict[str, str]:
    store = Store.open(box.state_path)
    try:
        return tenant_findings(store)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("tenant", "code", "expected"),
    [
        ("default", 0, {"numbering": "kept", "detail_fields": "legacy", "delete": "recycle"}),
        ("renumbering", 1, {"numbering": "renumbers"}),
        ("documented", 0, {"detail_fields": "documented"}),
        ("erase", 1, {"delete": "erase"}),
    ],
    indirect=["tenant"],
)
def test_probe_detects_the_tenant_mode_and_stores_it(
    tenant: Sandbox, code: int, expected: dict[str, str]
) -> None:
    """Each mode is reported and stored; the probe invoice never stays active."""
    proc = tenant.run("probe", "--variant", VARIANT, "--yes", check_codes=(code,))
    found = _findings(tenant)
    assert {k: found[k] for k in expected} == expected, proc.stdout
    assert found["discount"] == "per_line" and found["payment_at_create"] == "paid"
    probes = [i for i in tenant.dealpos.invoices() if i.tag == "sync-job probe"]
    assert all(i.status != "Active" for i in probes), probes
    assert "probe invoice" in proc.stdout


@pytest.mark.parametrize("tenant", ["default"], indirect=True)
def test_probe_without_yes_only_describes_the_calls(tenant: Sandbox) -> None:
    """No --yes: the calls are printed and DealPOS sees nothing at all."""
    proc = tenant.run("probe", "--variant", VARIANT)
    assert "POST /api/v3/Invoice" in proc.stdout and "--yes" in proc.stdout
    assert tenant.dealpos.invoices() == []
    assert tenant.dealpos.calls.count() == 0


@pytest.mark.parametrize("tenant", ["default"], indirect=True)
def test_probe_with_an_unknown_variant_fails_clearly(tenant: Sandbox) -> None:
    """DealPOS refuses the create: exit 1 with its message, nothing left behind."""
    proc = tenant.run("probe", "--variant", "NO-SUCH-CODE", "--yes", check_codes=(1,))
    assert "FAIL probe" in proc.stdout and "NO-SUCH-CODE" in proc.stdout
    assert tenant.dealpos.invoices() == []
