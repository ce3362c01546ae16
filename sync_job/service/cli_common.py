"""Helpers every `sync-job` command shares: loading the config, exit codes, argument checks.

Commands live in their own modules (`cli.py` and `cli_*.py`); they all go through these helpers so a
bad config or argument is reported the same way everywhere: one message naming the key, exit 2.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from sync_job.domain.errors import ConfigError, StateError
from sync_job.service.config import Config, find_config_path, load_config
from sync_job.service.logs import register_secrets
from sync_job.state.problems import state_error

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def load(ctx: click.Context, *, need_secrets: bool = True) -> Config:
    """Load and validate the config, or exit 2 with one message naming the key.

    `need_secrets=False`: for commands that only read or update the state DB (status, retry).
    """
    try:
        path = find_config_path(ctx.obj["config_path"], os.environ)
        config = load_config(path, need_secrets=need_secrets)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_USAGE)
    register_secrets(s.reveal() for s in config.secrets())
    ctx.obj["state_path"] = config.state.path  # for messages about the state file
    return config


class StateErrorGroup(click.Group):
    """The command group: a state file that cannot be used is one message, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; report a ConfigError or StateError (or its SQLite error) and exit."""
        try:
            return super().invoke(ctx)
        except ConfigError as exc:  # found after loading, e.g. a listen address already taken
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_USAGE)
        except (StateError, sqlite3.DatabaseError) as exc:
            path = Path(str((ctx.obj or {}).get("state_path", "the state file")))
            problem = state_error(exc, path)
            if problem is None:
                raise
            click.echo(f"error: {problem}", err=True)
            ctx.exit(problem.exit_code)


def check_shop(ctx: click.Context, config: Config, shop: str | None) -> None:
    """Exit 2 when --shop names a shop the config does not have."""
    if shop is None:
        return
    try:
        config.shop(shop)
    except ConfigError as exc:
        click.echo(f"error: --shop {shop}: {exc.problem}", err=True)
        ctx.exit(EXIT_USAGE)


def parse_day(ctx: click.Context, name: str, value: str | None) -> date | None:
    """Parse a YYYY-MM-DD option, or exit 2 naming the option."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        click.echo(f"error: {name} {value!r}: expected a date as YYYY-MM-DD", err=True)
        ctx.exit(EXIT_USAGE)
    raise AssertionError  # unreachable: ctx.exit raises
