"""`sync-job check` against both simulators: one test per mistake, never a DealPOS write."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sync_job.sandbox import defaults
from sync_job.service.cli import main
from tests.playground import KNOWN_SKU, Sims, config_text, simulators

VARIANT_DETAIL = "GET /api/v3/Variant/Detail"


@pytest.fixture
def sims() -> Iterator[Sims]:
    """Both simulators, with one recent order of a known SKU."""
    with simulators() as running:
        running.put_order()
        yield running


def check(
    sims: Sims, tmp_path: Path, *args: str, **changes: str
) -> tuple[int, str, dict[str, str]]:
    """Write a config with `changes`, run check; return (exit code, output, {name: line})."""
    path = tmp_path / "config.toml"
    path.write_text(config_text(sims, tmp_path / "state" / "sync.db", **changes))
    result = CliRunner().invoke(
        main, ["--config", str(path), "check", *args], env={}, catch_exceptions=False
    )
    lines = {}
    for line in result.stdout.splitlines():
        _status, _, rest = line.partition(" ")
        lines[rest.partition(":")[0]] = line
    assert sims.dealpos.write_calls() == 0  # read-only, whatever the outcome
    return result.exit_code, result.stdout, lines


def test_everything_right_is_all_ok(sims: Sims, tmp_path: Path) -> None:
    """A correct config: every line ok, exit 0, no cursor or run recorded."""
    code, out, lines = check(sims, tmp_path)
    assert code == 0, out
    assert all(line.startswith("ok ") for line in out.splitlines()), out
    for name in (
        "config",
        "state folder",
        "clock",
        "tiktok token",
        "dealpos login",
        f"shop {defaults.TIKTOK_SHOP_ID}",
        "outlet Online Store",
        "payment method",
        "default customer",
        f"skus {defaults.TIKTOK_SHOP_ID}",
    ):
        assert name in lines, (name, out)
    assert sims.tiktok.calls.count("POST /order/202309/orders/search") == 1


def test_rerun_spends_no_quota_on_known_variants(sims: Sims, tmp_path: Path) -> None:
    """Variant answers are cached in the state DB: the second check asks DealPOS none."""
    assert check(sims, tmp_path)[0] == 0
    asked = sims.dealpos.calls.count(VARIANT_DETAIL)
    assert asked == 1
    assert check(sims, tmp_path)[0] == 0
    assert sims.dealpos.calls.count(VARIANT_DETAIL) == asked


def test_wrong_outlet_suggests_the_closest(sims: Sims, tmp_path: Path) -> None:
    """A misspelled outlet: FAIL naming the outlets that are close."""
    code, _, lines = check(sims, tmp_path, **{"shop.outlet": '"Onlin Store"'})
    assert code == 1
    assert lines["outlet Onlin Store"].startswith("FAIL")
    assert '"Online Store"' in lines["outlet Onlin Store"]


def test_unknown_payment_method(sims: Sims, tmp_path: Path) -> None:
    """A payment method the tenant lacks: FAIL, with the closest ones."""
    code, _, lines = check(sims, tmp_path, **{"dealpos.payment_method": '"TikTok Shopp"'})
    assert code == 1
    assert lines["payment method"].startswith("FAIL") and '"TikTok Shop"' in lines["payment method"]


def test_unknown_default_customer(sims: Sims, tmp_path: Path) -> None:
    """A default customer the tenant lacks: FAIL."""
    code, _, lines = check(sims, tmp_path, **{"dealpos.default_customer": '"Nobody"'})
    assert code == 1 and lines["default customer"].startswith("FAIL")


def test_unknown_sku_prints_a_sku_map_line(sims: Sims, tmp_path: Path) -> None:
    """A SKU DealPOS lacks: FAIL with a ready [sku_map] line; mapping it makes the check pass."""
    sims.put_order(sku="TT-ONLY-SKU")
    code, _, lines = check(sims, tmp_path)
    assert code == 1
    assert '"TT-ONLY-SKU" = "..."' in lines["sku TT-ONLY-SKU"]
    mapped = f'[sku_map]\n"TT-ONLY-SKU" = "{KNOWN_SKU}"\n'
    path = tmp_path / "config.toml"
    path.write_text(config_text(sims, tmp_path / "state" / "sync.db") + mapped)
    result = CliRunner().invoke(main, ["--config", str(path), "check"], env={})
    assert result.exit_code == 0, result.stdout


def test_wrong_dealpos_secret(sims: Sims, tmp_path: Path) -> None:
    """A wrong DealPOS secret: FAIL dealpos login, the secret never printed."""
    code, out, lines = check(sims, tmp_path, **{"dealpos.client_secret": '"wrong-secret-XQ"'})
    assert code == 1 and lines["dealpos login"].startswith("FAIL")
    assert "wrong-secret-XQ" not in out


def test_wrong_tiktok_secret(sims: Sims, tmp_path: Path) -> None:
    """A wrong TikTok app secret: FAIL tiktok token (the signature is refused)."""
    code, out, lines = check(sims, tmp_path, **{"tiktok.app_secret": '"wrong-app-secret-XQ"'})
    assert code == 1 and lines["tiktok token"].startswith("FAIL")
    assert "wrong-app-secret-XQ" not in out


def test_placeholder_exits_2_naming_the_key(sims: Sims, tmp_path: Path) -> None:
    """An example value left in: FAIL config naming the key, exit 2, no call at all."""
    code, _, lines = check(sims, tmp_path, **{"dealpos.base_url": '"https://mybrand.dealpos.net"'})
    assert code == 2
    assert lines["config"].startswith("FAIL config: dealpos.base_url")
    assert sims.tiktok.calls.count() == sims.dealpos.calls.count() == 0


def test_shop_not_authorized(sims: Sims, tmp_path: Path) -> None:
    """A shop id the app is not authorized for: FAIL telling to run connect."""
    code, _, lines = check(sims, tmp_path, **{"shop.id": '"7495000000000000999"'})
    assert code == 1
    assert "sync-job connect" in lines["shop 7495000000000000999"]


def test_wrong_cipher(sims: Sims, tmp_path: Path) -> None:
    """An authorized shop with a wrong cipher: FAIL giving TikTok's cipher."""
    code, _, lines = check(sims, tmp_path, **{"shop.cipher": '"GCP_wrong"'})
    assert code == 1 and defaults.TIKTOK_SHOP_CIPHER in lines[f"shop {defaults.TIKTOK_SHOP_ID}"]


def test_clock_skew(tmp_path: Path) -> None:
    """TikTok's clock 10 minutes ahead of ours: FAIL clock."""
    with simulators(clock=lambda: time.time() + 600) as sims:
        code, _, lines = check(sims, tmp_path)
    assert code == 1
    assert lines["clock"].startswith("FAIL clock") and "NTP" in lines["clock"]


def test_json_output(sims: Sims, tmp_path: Path) -> None:
    """--json: {"checks": [{"name", "status", "detail"}]}."""
    path = tmp_path / "config.toml"
    path.write_text(config_text(sims, tmp_path / "state" / "sync.db", **{"shop.outlet": '"X"'}))
    result = CliRunner().invoke(main, ["--config", str(path), "check", "--json"], env={})
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    assert any(c["name"] == "outlet X" and c["status"] == "FAIL" for c in data["checks"])
    assert all(set(c) == {"name", "status", "detail"} for c in data["checks"])


def test_no_token_yet_says_run_connect(sims: Sims, tmp_path: Path) -> None:
    """No pair configured and none stored (connect not run): FAIL tiktok token naming connect."""
    path = tmp_path / "config.toml"
    text = config_text(sims, tmp_path / "state" / "sync.db")
    text = "\n".join(line for line in text.splitlines() if not line.startswith(("access_", "refr")))
    path.write_text(text)
    result = CliRunner().invoke(main, ["--config", str(path), "check"], env={})
    assert result.exit_code == 1
    assert "FAIL tiktok token: no TikTok access token yet: run `sync-job connect`" in result.stdout
