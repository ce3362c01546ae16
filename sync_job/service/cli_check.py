"""`sync-job check [--shop ID] [--json] [--skus N]`: the read-only preflight before a first run."""

from __future__ import annotations

import json
import os
import time

import click

from sync_job.domain.errors import ConfigError
from sync_job.service.app import build_dealpos, build_tiktok
from sync_job.service.cli_common import EXIT_USAGE, check_shop
from sync_job.service.config import Config, find_config_path, load_config
from sync_job.service.logs import register_secrets
from sync_job.service.preflight import Check, Preflight, check_state_folder, exit_code, fail
from sync_job.state.store import Store


def _echo(checks: list[Check], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"checks": [c.as_dict() for c in checks]}, indent=2))
    else:
        for check in checks:
            click.echo(check.line())


def _load(ctx: click.Context, as_json: bool) -> Config:
    """Load the config; a bad one is the `config` check's FAIL line, exit 2 (no network call)."""
    try:
        config = load_config(find_config_path(ctx.obj["config_path"], os.environ))
    except ConfigError as exc:
        _echo([fail("config", f"{exc.key}: {exc.problem}")], as_json)
        ctx.exit(EXIT_USAGE)
    register_secrets(s.reveal() for s in config.secrets())
    return config


def run_checks(config: Config, shop: str | None, skus: int) -> list[Check]:
    """Every check; the state DB holds only the variant cache (in memory if it cannot)."""
    checks = [Check("config", "ok", "every key is set, no example value left")]
    state = check_state_folder(config.state.path)
    checks.append(state)
    store = Store.open(config.state.path) if state.status == "ok" else Store.memory()
    try:
        shops = [s for s in config.tiktok.shops if shop is None or s.id == shop]
        tiktok = build_tiktok(config, store, clock=time.time, sleep=time.sleep)
        dealpos = build_dealpos(config, sleep=time.sleep)
        preflight = Preflight(config, store, tiktok, dealpos, shops, skus)
        return checks + preflight.run()
    finally:
        store.close()


@click.command()
@click.option("--shop", metavar="ID", help="Only this shop.")
@click.option("--json", "as_json", is_flag=True, help='Print {"checks": [...]}.')
@click.option(
    "--skus",
    type=click.IntRange(0, 100),
    default=20,
    show_default=True,
    metavar="N",
    help="Check the SKUs of up to N recent orders per shop (0: skip).",
)
@click.pass_context
def check(ctx: click.Context, shop: str | None, as_json: bool, skus: int) -> None:
    """Read-only preflight: config, state folder, TikTok, DealPOS and SKUs, one line per check."""
    config = _load(ctx, as_json)
    check_shop(ctx, config, shop)
    checks = run_checks(config, shop, skus)
    _echo(checks, as_json)
    ctx.exit(exit_code(checks))
