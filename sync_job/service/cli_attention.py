"""`sync-job attention`: list the work items for a person with their ids, and mark them done."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, time
from typing import Any

import click

from sync_job.service.cli_common import EXIT_FAILED, EXIT_USAGE, load, parse_day
from sync_job.state.attention import list_attention, resolve_attention_ids, resolve_attention_kind
from sync_job.state.store import Store


def _line(item: dict[str, Any]) -> str:
    done = f", done {item['resolved_at']}" if item["resolved_at"] else ""
    return (
        f"#{item['id']} shop {item['shop_id']} [{item['kind']}] {item['message']} "
        f"(since {item['created_at']}{done})"
    )


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--all", "show_all", is_flag=True, help="Resolved items too.")
@click.pass_context
def attention(ctx: click.Context, as_json: bool, show_all: bool) -> None:
    """List the open attention items with their ids (`attention done` marks them done)."""
    if ctx.invoked_subcommand is not None:
        return
    config = load(ctx, need_secrets=False)
    store = Store.open_readonly(config.state.path)  # None: no state file yet, so no item
    with contextlib.closing(store or Store.memory()) as source:
        items = list_attention(source, include_resolved=show_all)
    if as_json:
        click.echo(json.dumps({"attention": items}, indent=2))
        return
    for item in items:
        click.echo(_line(item))
    click.echo(f"{len(items)} item(s){'' if show_all else ' open'}")


@attention.command()
@click.argument("ids", nargs=-1, type=int)
@click.option("--kind", metavar="KIND", help="Every open item of this kind (e.g. return).")
@click.option(
    "--before", metavar="YYYY-MM-DD", help="With --kind: only items created before that day."
)
@click.pass_context
def done(ctx: click.Context, ids: tuple[int, ...], kind: str | None, before: str | None) -> None:
    """Mark items done: by id (`done 3 7`), or by kind (`done --kind return --before DATE`)."""
    if bool(ids) == bool(kind) or (before is not None and kind is None):
        click.echo("error: give item ids, or --kind KIND [--before YYYY-MM-DD]", err=True)
        ctx.exit(EXIT_USAGE)
    day = parse_day(ctx, "--before", before)
    config = load(ctx, need_secrets=False)
    # No state file yet: nothing to mark (and nothing is created just to say so).
    store = Store.open(config.state.path) if config.state.path.exists() else Store.memory()
    try:
        if kind is not None:
            # The day starts at midnight in the shop's time zone, like backfill's dates.
            cutoff = None if day is None else datetime.combine(day, time(), config.sync.tz)
            count = resolve_attention_kind(store, kind, cutoff)
            click.echo(f"{count} open '{kind}' item(s) marked done")
            return
        unknown = resolve_attention_ids(store, ids)
    finally:
        store.close()
    click.echo(f"{len(set(ids)) - len(unknown)} item(s) marked done")
    if unknown:
        click.echo(f"error: no attention item with id {', '.join(map(str, unknown))}", err=True)
        ctx.exit(EXIT_FAILED)
