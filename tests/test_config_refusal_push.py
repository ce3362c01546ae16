"""A refusal caused by the config stops the push: one call, one item, exit 1, nothing lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sync_job.sandbox import defaults
from sync_job.service.cli import main
from sync_job.state.store import Store
from tests.playground import Sims, config_text, simulators

CREATE = "POST /api/v3/Invoice"


@pytest.fixture
def sims() -> Iterator[Sims]:
    """Both simulators with five paid orders, older than the default lag."""
    with simulators() as running:
        for _ in range(5):
            running.put_order(age=600)
        yield running


def once(sims: Sims, tmp_path: Path, extra: str = "", **changes: str) -> tuple[int, str]:
    """Write a config with `changes` and run `sync-job once`; return (exit code, stderr)."""
    path = tmp_path / "config.toml"
    path.write_text(config_text(sims, tmp_path / "sync.db", **changes) + extra)
    result = CliRunner().invoke(main, ["--config", str(path), "once"], env={})
    return result.exit_code, result.stderr


def status(tmp_path: Path) -> dict[str, object]:
    """The shop's `status --json` entry."""
    result = CliRunner().invoke(
        main, ["--config", str(tmp_path / "config.toml"), "status", "--json"]
    )
    shops: list[dict[str, object]] = json.loads(result.stdout)["shops"]
    return shops[0]


def open_items(tmp_path: Path) -> list[dict[str, object]]:
    """The shop's open attention items."""
    store = Store.open(tmp_path / "sync.db")
    try:
        return store.open_attention(defaults.TIKTOK_SHOP_ID)
    finally:
        store.close()


def test_wrong_outlet_stops_the_push_after_one_call(sims: Sims, tmp_path: Path) -> None:
    """Five orders, a misspelled outlet: one refused create, one item naming the key, none
    quarantined, exit 1; once the outlet is fixed the same orders go through and the item closes."""
    code, _ = once(sims, tmp_path, **{"shop.outlet": '"Onlin Store"'})
    assert code == 1
    assert sims.dealpos.calls.count(CREATE) == 1
    items = open_items(tmp_path)
    assert [i["kind"] for i in items] == ["config"]
    assert "tiktok.shops (id " in str(items[0]["message"])
    assert "Outlet 'Onlin Store' not found" in str(items[0]["message"])
    outbox = status(tmp_path)["outbox"]
    assert outbox == {"pending": 5, "in_flight": 0, "quarantined": 0}

    code, _ = once(sims, tmp_path)
    assert code == 0
    assert len(sims.dealpos.active_by_reference()) == 5
    assert open_items(tmp_path) == []


def test_unknown_payment_method_stops_the_push(sims: Sims, tmp_path: Path) -> None:
    """Orders settled at creation with a payment method DealPOS lacks: the push stops at once."""
    for _ in range(3):
        sims.put_order(age=600, status="COMPLETED")
    code, _ = once(
        sims,
        tmp_path,
        **{"dealpos.payment_method": '"TikTok Shopp"', "sync.settle_completed": '"always"'},
    )
    assert code == 1
    assert [i["kind"] for i in open_items(tmp_path)] == ["config"]
    assert status(tmp_path)["outbox"]["quarantined"] == 0  # type: ignore[index]
    assert sims.dealpos.calls.count(CREATE, "400") == 1  # stopped at the first settled one
    assert status(tmp_path)["outbox"]["pending"] >= 3  # type: ignore[index]


def test_missing_default_customer_stops_the_push(sims: Sims, tmp_path: Path) -> None:
    """An order with a masked name and no contact uses the default customer DealPOS lacks."""
    masked = {"name": "J*** D**", "phone_number": ""}
    sims.put_order(age=700, buyer_email="", recipient_address=masked)
    code, _ = once(sims, tmp_path, **{"dealpos.default_customer": '"Walk-in TikTok"'})
    assert code == 1
    items = open_items(tmp_path)
    assert [i["kind"] for i in items] == ["config"]
    assert "dealpos.default_customer" in str(items[0]["message"])


def test_unknown_sku_stays_a_matter_of_its_order(sims: Sims, tmp_path: Path) -> None:
    """An unknown SKU quarantines that order only; the rest are created, exit 0."""
    sims.put_order(age=600, sku="NOT-IN-DEALPOS")
    code, _ = once(sims, tmp_path)
    assert code == 0
    assert len(sims.dealpos.active_by_reference()) == 5
    assert [i["kind"] for i in open_items(tmp_path)] == ["rejected"]
