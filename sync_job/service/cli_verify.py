"""`sync-job verify`: reconcile TikTok, the ledger and DealPOS's invoice list; repair on request."""

from __future__ import annotations

import json
from datetime import date

import click

from sync_job.service.app import App
from sync_job.service.cli_common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    check_shop,
    load,
    parse_day,
)
from sync_job.service.verifying import default_days, local_today, render_verify, verify_shops


@click.command()
@click.option("--from", "first", metavar="YYYY-MM-DD", help="First paid day (default: --to - 6).")
@click.option(
    "--to", "last", metavar="YYYY-MM-DD", help="Last paid day, inclusive (default: today)."
)
@click.option("--shop", metavar="ID", help="Only this shop.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--repair",
    "fix",
    is_flag=True,
    help="Put fixable findings (missing, state) into the outbox; raise attention for the rest.",
)
@click.option(
    "--refresh", is_flag=True, help="Re-read the orders from TikTok first (recorded, not pushed)."
)
@click.pass_context
def verify(
    ctx: click.Context,
    first: str | None,
    last: str | None,
    shop: str | None,
    as_json: bool,
    fix: bool,
    refresh: bool,
) -> None:
    """Check every order paid in the range against DealPOS's invoice list (exit 1 on drift).

    Findings: missing, duplicate, unexpected, state, total; orders still in the outbox show as
    pending. DealPOS calls: the invoice list's pages only (and a token).
    """
    start, end = parse_day(ctx, "--from", first), parse_day(ctx, "--to", last)
    # TikTok's secrets only for --refresh; DealPOS's for the list calls.
    config = load(ctx, need_secrets=refresh)
    if not config.dealpos.client_secret.reveal():
        click.echo(
            "error: config: dealpos.client_secret: missing; verify reads DealPOS's invoice list "
            "(set env DEALPOS_CLIENT_SECRET, the credential file, or the key)",
            err=True,
        )
        ctx.exit(EXIT_USAGE)
    check_shop(ctx, config, shop)
    app = App.open(config)
    try:
        start, end = default_days(start, end, local_today(config.sync.tz, app.clock()))
        if end < start:
            click.echo("error: --to is before --from", err=True)
            ctx.exit(EXIT_USAGE)
        if refresh:
            _refresh(app, start, shop)
        results = verify_shops(app, start, end, shop, fix=fix)
    finally:
        app.close()
    if as_json:
        click.echo(json.dumps({"shops": [r.as_dict() for r in results]}, indent=2))
    else:
        click.echo(render_verify(results, fix=fix))
    failed = any(r.drift or r.error for r in results)
    ctx.exit(EXIT_FAILED if failed else EXIT_OK)


def _refresh(app: App, first: date, shop: str | None) -> None:
    """Re-read the range from TikTok (as backfill does, without settling); say when it failed."""
    for result in app.run_refresh(first, shop):
        if result.status != "ok":
            click.echo(
                f"warning: shop {result.shop_id}: refresh from TikTok {result.status}: "
                f"{result.error}; verifying against the orders recorded so far",
                err=True,
            )
