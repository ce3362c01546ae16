"""The `sync-job` command line: parse, load config, call one function, map outcome to exit code."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from sync_job.engine.cycle import CycleResult
from sync_job.service import cli_check, cli_connect, cli_init, cli_probe
from sync_job.service.app import App
from sync_job.service.cli_attention import attention
from sync_job.service.cli_common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    StateErrorGroup,
    check_shop,
    load,
    parse_day,
)
from sync_job.service.cli_verify import verify
from sync_job.service.cli_web import web
from sync_job.service.logs import configure_logging
from sync_job.service.metrics import write_textfile_if_configured
from sync_job.service.progress import make_progress
from sync_job.service.status import collect_status, render_status
from sync_job.service.stopping import StopFlag, stop_on_signals
from sync_job.state.store import Store

NOTHING_RAN = "nothing has run yet (the first `sync-job once` or `sync-job run` creates it)"


def _exit_code(results: Sequence[CycleResult]) -> int:
    # A shop another run holds was not synced by this command: that is a failure to report.
    failed = any(r.status in ("failed", "busy") for r in results)
    return EXIT_FAILED if failed else EXIT_OK


def _report_busy(results: Sequence[CycleResult]) -> None:
    """Say on stderr which run holds each shop this command could not take."""
    for result in results:
        if result.status == "busy":
            click.echo(f"error: {result.error}; try again when it has finished", err=True)


def _print_plan(results: Sequence[CycleResult]) -> None:
    for result in results:
        calls = 0
        click.echo(f"shop {result.shop_id}: dry run, nothing was changed")
        for plan in result.plans:
            kinds = "+".join(a.kind for a in plan.actions) or "no call"
            calls += len(plan.actions)
            click.echo(
                f"  {plan.order_id}: {plan.known.describe()} -> {plan.desired.describe()}: {kinds}"
            )
        click.echo(f"  {len(result.plans)} orders changed, {calls} DealPOS calls planned")
        if result.error:
            click.echo(f"  stopped early: {result.error}")


@click.group(cls=StateErrorGroup)
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="config.toml to use (default: $SYNC_JOB_CONFIG, else ./config.toml).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
@click.version_option(package_name="sync-job")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: bool) -> None:
    """Mirror TikTok Shop orders into DealPOS invoices, exactly once, within the rate limit."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    configure_logging(verbose=verbose)


@main.command()
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing anywhere.")
@click.option("--shop", metavar="ID", help="Only this shop.")
@click.pass_context
def once(ctx: click.Context, dry_run: bool, shop: str | None) -> None:
    """Run one cycle for every configured shop (or one), then exit."""
    config = load(ctx)
    check_shop(ctx, config, shop)
    stop = StopFlag()
    app = App.open(config, sleep=stop.sleep)
    _run_cycles(ctx, app, dry_run, lambda a: a.run_once(shop, dry_run=dry_run), stop)


def _run_cycles(
    ctx: click.Context,
    app: App,
    dry_run: bool,
    run: Callable[[App], list[CycleResult]],
    stop: StopFlag,
) -> None:
    """Run the cycles, write the metrics file, print a dry run's plan, exit with the outcome.

    SIGTERM/SIGINT stop the run like the daemon's (see stopping.py): exit 0 or 130.
    """
    app.should_stop = stop.is_set
    try:
        with stop_on_signals(stop):
            results = run(app)
        if not dry_run:  # a dry run changes nothing anywhere, metrics files included
            write_textfile_if_configured(
                app.config, results, app.store, app.dealpos.stats.by_outcome
            )
    finally:
        app.close()
    if dry_run:
        _print_plan(results)
    _report_busy(results)
    ctx.exit(stop.exit_code(_exit_code(results)))


@main.command()
@click.option("--from", "first", required=True, metavar="YYYY-MM-DD", help="First day to re-read.")
@click.option("--to", "last", metavar="YYYY-MM-DD", help="Last day, inclusive (default: now).")
@click.option("--shop", metavar="ID", help="Only this shop.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing anywhere.")
@click.pass_context
def backfill(
    ctx: click.Context, first: str, last: str | None, shop: str | None, dry_run: bool
) -> None:
    """Manual download: re-read a date range, mirror it and settle completed orders as Paid."""
    start, end = parse_day(ctx, "--from", first), parse_day(ctx, "--to", last)
    assert start is not None
    if end is not None and end < start:
        click.echo("error: --to is before --from", err=True)
        ctx.exit(EXIT_USAGE)
    config = load(ctx)
    check_shop(ctx, config, shop)
    stop = StopFlag()
    app = App.open(config, sleep=stop.sleep)
    app.progress = make_progress(config.dealpos.rate_limit / config.dealpos.rate_window_seconds)
    run = lambda a: a.run_backfill(start, end, shop, dry_run=dry_run)  # noqa: E731
    _run_cycles(ctx, app, dry_run, run, stop)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show per shop: cursors, last run, outbox and open attention items."""
    config = load(ctx, need_secrets=False)
    store = Store.open_readonly(config.state.path)
    if store is None and not as_json:
        click.echo(f"no state file yet at {config.state.path}: {NOTHING_RAN}")
    with contextlib.closing(store or Store.memory()) as source:
        data = collect_status(source, config.tiktok.shops, config.webhook)
    click.echo(json.dumps(data, indent=2, default=str) if as_json else render_status(data))


@main.command()
@click.option("--order", "order_id", metavar="ID", help="Only this TikTok order.")
@click.pass_context
def retry(ctx: click.Context, order_id: str | None) -> None:
    """Put quarantined actions back in the outbox (after fixing their cause)."""
    config = load(ctx, need_secrets=False)
    if not config.state.path.exists():
        click.echo(f"no state file yet at {config.state.path}: {NOTHING_RAN}; nothing to retry")
        return
    with contextlib.closing(Store.open(config.state.path)) as store:
        count = store.requeue_quarantined(None, order_id)
    click.echo(f"{count} quarantined action(s) put back in the outbox")


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the daemon: a cycle every schedule.interval_seconds until SIGTERM/SIGINT."""
    from sync_job.service.daemon import run_daemon

    config = load(ctx)
    ctx.exit(run_daemon(config))


@main.command()
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=Path("sandbox-state"),
    show_default=True,
    help="Where the sandbox keeps its state database.",
)
@click.option("--seed", type=int, default=None, help="Seed of the order generator.")
@click.option(
    "--webhooks/--no-webhooks",
    default=True,
    show_default=True,
    help="The simulated TikTok also pushes signed webhooks to the daemon.",
)
@click.option(
    "--tamper",
    is_flag=True,
    help="Once a few invoices exist, edit DealPOS by hand behind the job's back "
    "(to watch `sync-job verify` catch it).",
)
@click.option(
    "--dealpos-mode",
    default="default",
    show_default=True,
    help="How the simulated DealPOS tenant behaves: any of renumbering (its own INV/ numbers), "
    "documented (Payment/Delivery field names), erase (delete erases), comma-separated.",
)
@click.pass_context
def sandbox(  # one parameter per option
    ctx: click.Context,
    state_dir: Path,
    seed: int | None,
    webhooks: bool,
    tamper: bool,
    dealpos_mode: str,
) -> None:
    """Start local TikTok Shop and DealPOS simulators and run the daemon against them."""
    from sync_job.sandbox.invoices import TenantMode
    from sync_job.sandbox.runner import run_sandbox

    try:
        mode = TenantMode.parse(dealpos_mode)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--dealpos-mode") from exc
    ctx.exit(run_sandbox(state_dir, seed=seed, webhooks=webhooks, tamper=tamper, dealpos_mode=mode))


# Commands that live in modules of their own register here, one line each.
_COMMANDS: tuple[click.Command, ...] = (
    attention,
    web,
    cli_init.init,
    cli_connect.connect,
    cli_check.check,
    cli_probe.probe,
    verify,
)
for _command in _COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name="sync-job")
    sys.exit(0)
