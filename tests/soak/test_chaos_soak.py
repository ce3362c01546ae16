"""The chaos soak at CI size: 300 orders, faults on both sides, the daemon SIGKILLed 6 times."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.soak import SoakOptions, run_soak

pytestmark = pytest.mark.soak


@pytest.mark.timeout(300)
def test_soak_300_orders_6_kills_mirror_is_exact(tmp_path: Path) -> None:
    """After faults and kills, DealPOS equals the desired state: no duplicate, none lost."""
    report = run_soak(SoakOptions(orders=300, kills=6, seed=20, work_dir=tmp_path))
    figures = "\n".join(report.lines())
    print(figures)
    assert report.kills == 6 and report.starts == 7, figures
    assert report.mirror.orders == 300, figures
    assert report.ok, figures
    assert not (report.mirror.duplicates or report.mirror.lost_cancellations), figures
    injected = sum(n for k, n in report.dealpos_calls.items() if not k.startswith(("200", "total")))
    assert injected > 0 and report.dealpos_calls.get("lost_response", 0) > 0, figures


@pytest.mark.timeout(300)
def test_soak_webhook_mode_200_orders_4_kills_mirror_is_exact(tmp_path: Path) -> None:
    """Webhooks on (20% lost, some repeated, reordered, late, mis-signed): the same bar."""
    report = run_soak(SoakOptions(orders=200, kills=4, seed=21, work_dir=tmp_path, webhooks=True))
    figures = "\n".join(report.lines())
    print(figures)
    assert report.kills == 4 and report.starts == 5, figures
    assert report.mirror.orders == 200, figures
    assert report.ok, figures
    assert not (report.mirror.duplicates or report.mirror.lost_cancellations), figures
    hooks = report.webhooks
    assert hooks["sender dropped"] > 0 and hooks["sender duplicated"] > 0, figures
    assert hooks["daemon duplicate"] > 0 and hooks["inbox pushed"] > 0, figures


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", ["renumbering", "documented,erase"])
def test_soak_in_each_dealpos_tenant_mode(tmp_path: Path, mode: str) -> None:
    """A shorter soak per tenant mode, same bar: no duplicate, none missing or wrong or lost."""
    options = SoakOptions(orders=120, kills=3, seed=21, work_dir=tmp_path, dealpos_mode=mode)
    report = run_soak(options)
    figures = "\n".join(report.lines())
    print(figures)
    assert report.mirror.orders == 120, figures
    assert report.ok, figures
    assert not (report.mirror.duplicates or report.mirror.lost_cancellations), figures
    assert report.dealpos_calls.get("lost_response", 0) > 0, figures
