"""`sync-job probe`: check DealPOS behaviour on the live tenant with one probe invoice (opt-in)."""

from __future__ import annotations

import time
from datetime import datetime

import click

from sync_job.domain import jsonutil
from sync_job.engine.probe import (
    Finding,
    ProbeFailed,
    ProbeReport,
    ProbeSettings,
    describe_calls,
    run_probe,
)
from sync_job.service.app import build_dealpos
from sync_job.service.cli_common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, check_shop, load
from sync_job.service.config import Config, ShopConfig
from sync_job.state.store import Store
from sync_job.state.tenant import record_tenant_finding

_MARK = {True: "held", False: "DID NOT HOLD", None: "info"}


def _settings(config: Config, shop: ShopConfig, variant: str) -> ProbeSettings:
    tz = config.sync.tz
    return ProbeSettings(
        outlet=shop.outlet,
        invoice_prefix=shop.invoice_prefix,
        variant=variant,
        payment_method=config.dealpos.payment_method,
        customer=config.dealpos.default_customer,
        timezone_date=lambda ts: datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d"),
    )


def _recent_sku(config: Config, shop: ShopConfig) -> str | None:
    """The DealPOS code of the newest recorded order's first line (a variant that should exist)."""
    if not config.state.path.exists():
        return None
    store = Store.open(config.state.path)
    try:
        row = store.db.execute(
            "SELECT raw FROM orders WHERE shop_id = ? ORDER BY update_time DESC LIMIT 1",
            (shop.id,),
        ).fetchone()
    finally:
        store.close()
    lines = jsonutil.loads(row[0]).get("line_items") if row else None
    sku = lines[0].get("seller_sku") if isinstance(lines, list) and lines else None
    return config.sku_map.get(sku, sku) if isinstance(sku, str) and sku else None


def _print_report(report: ProbeReport) -> None:
    for finding in report.findings:
        click.echo(f"{_MARK[finding.held]} {finding.name}: {finding.detail}")


def _store_findings(config: Config, findings: list[Finding]) -> None:
    store = Store.open(config.state.path)
    try:
        for finding in findings:
            record_tenant_finding(store, finding.name, finding.value, "probe")
    finally:
        store.close()


@click.command()
@click.option("--variant", metavar="CODE", help="A DealPOS variant code for the probe invoice.")
@click.option("--shop", metavar="ID", help="Use this shop's outlet and prefix (default: first).")
@click.option(
    "--yes", is_flag=True, help="Really make the calls (creates and deletes one invoice)."
)
@click.pass_context
def probe(ctx: click.Context, variant: str | None, shop: str | None, yes: bool) -> None:
    """Check DealPOS's behaviour on the live tenant with one probe invoice (opt-in: --yes)."""
    config = load(ctx)
    check_shop(ctx, config, shop)
    chosen = next(s for s in config.tiktok.shops if shop is None or s.id == shop)
    code = variant or config.dealpos.shipping_variant or _recent_sku(config, chosen)
    if not code:
        click.echo(
            "error: --variant CODE is needed (a variant code that exists in DealPOS)", err=True
        )
        ctx.exit(EXIT_USAGE)
    settings = _settings(config, chosen, str(code))
    if not yes:
        click.echo("sync-job probe would make these DealPOS calls (about 6, plus a token):")
        for line in describe_calls(settings, time.time()):
            click.echo(f"  {line}")
        click.echo("Nothing was sent. Run again with --yes to make them.")
        ctx.exit(EXIT_OK)
    try:
        report = run_probe(build_dealpos(config, sleep=time.sleep), settings)
    except ProbeFailed as exc:
        _print_report(exc.report)
        _store_findings(config, exc.report.findings)
        click.echo(f"FAIL probe: {exc}")
        ctx.exit(EXIT_FAILED)
    _print_report(report)
    _store_findings(config, report.findings)
    ok = "every assumption held" if report.all_held else "some assumptions did not hold"
    click.echo(f"probe invoice {report.number_sent}: {ok}; findings stored in the state file")
    ctx.exit(EXIT_OK if report.all_held else EXIT_FAILED)
