"""A merchant's first hour: init, connect, edit, check, once, from an empty folder.

The real `sync-job` command in a subprocess against both simulators on loopback: nothing is
written for the merchant except what they would type or paste.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sync_job.sandbox import defaults
from tests.playground import Sims, simulators

pytestmark = pytest.mark.e2e

# Secrets come from the environment, as the example config recommends.
ENV = {
    "TIKTOK_APP_SECRET": defaults.TIKTOK_APP_SECRET,
    "DEALPOS_CLIENT_SECRET": defaults.DEALPOS_CLIENT_SECRET,
}


def sync_job(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `sync-job ARGS` in the merchant's folder (so ./config.toml is found by default)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIKTOK_", "DEALPOS_"))}
    return subprocess.run(
        [sys.executable, "-m", "sync_job", *args],
        cwd=folder,
        env={**env, **ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )


def edit_before_connect(config: Path, sims: Sims) -> None:
    """What the merchant fills in after `init`: hosts, app key, service id, DealPOS client."""
    replacements = [
        ('"https://open-api.tiktokglobalshop.com"', f'"{sims.tiktok.url}"'),
        ('"https://auth.tiktok-shops.com"', f'"{sims.tiktok.url}"'),
        ('app_key = "..."', f'app_key = "{defaults.TIKTOK_APP_KEY}"'),
        ("7310000000000000000", defaults.TIKTOK_SERVICE_ID),
        ('"https://mybrand.dealpos.net"', f'"{sims.dealpos.url}"'),
        ('client_id = "..."', f'client_id = "{defaults.DEALPOS_CLIENT_ID}"'),
    ]
    text = config.read_text()
    for example, own in replacements:
        assert example in text, example
        text = text.replace(example, own)
    config.write_text(text)


def paste_shop_block(config: Path, printed: str) -> None:
    """Replace the example [[tiktok.shops]] block with the printed one, outlet filled in."""
    block = printed[printed.index("[[tiktok.shops]]") : printed.index("then run")].strip()
    block = block.replace('outlet = "..."', f'outlet = "{defaults.DEALPOS_OUTLET}"')
    text = config.read_text()
    start = text.index("[[tiktok.shops]]")
    end = text.index("[dealpos]")
    config.write_text(text[:start] + block + "\n\n" + text[end:])


def test_a_merchant_goes_live_from_an_empty_folder(tmp_path: Path) -> None:
    """init -> connect (link, then --code) -> paste the block -> check -> once: invoices appear."""
    folder = tmp_path / "shop"
    folder.mkdir()
    with simulators() as sims:
        order = sims.put_order(age=600)  # older than the default lag (120 s): read at once
        init = sync_job(folder, "init")
        assert init.returncode == 0, init.stderr
        config = folder / "config.toml"
        edit_before_connect(config, sims)

        link = sync_job(folder, "connect")
        assert link.returncode == 0, link.stderr
        assert f"service_id={defaults.TIKTOK_SERVICE_ID}" in link.stdout
        connected = sync_job(folder, "connect", "--code", sims.tiktok.issue_auth_code())
        assert connected.returncode == 0, connected.stderr
        assert sims.tiktok.tokens[0] not in connected.stdout + connected.stderr

        refused = sync_job(folder, "check")
        assert refused.returncode == 2  # the example shop is still there: named, no call made
        assert "tiktok.shops[0].id" in refused.stdout

        paste_shop_block(config, connected.stdout)
        checked = sync_job(folder, "check")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert sims.dealpos.write_calls() == 0

        dry = sync_job(folder, "once", "--dry-run")
        assert dry.returncode == 0 and "dry run, nothing was changed" in dry.stdout
        assert f"{order['id']}: " in dry.stdout and "create" in dry.stdout
        assert sims.dealpos.write_calls() == 0

        once = sync_job(folder, "once")
        assert once.returncode == 0, once.stderr
        invoice = sims.dealpos.active_by_reference().get(str(order["id"]))
        assert invoice is not None and invoice.outlet == defaults.DEALPOS_OUTLET
