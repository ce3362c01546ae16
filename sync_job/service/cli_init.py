"""`sync-job init [PATH]`: write the commented example config shipped inside the package."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import click

from sync_job.service.cli_common import EXIT_FAILED, EXIT_OK

EXAMPLE_NAME = "config.example.toml"


def example_config() -> str:
    """The commented example config, as shipped in the package (the same text as ./config.toml)."""
    return resources.files("sync_job.service").joinpath(EXAMPLE_NAME).read_text(encoding="utf-8")


def write_example(path: Path) -> bool:
    """Create `path` with the example config; False (and nothing written) when it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: the existence check and the creation are one step, so nothing is overwritten;
        # 0600 from the start, since the file will hold secrets once filled in.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(example_config())
    return True


@click.command()
@click.argument("path", type=click.Path(path_type=Path), default=Path("config.toml"))
@click.pass_context
def init(ctx: click.Context, path: Path) -> None:
    """Write the commented example config to PATH (default ./config.toml); never overwrites."""
    if not write_example(path):
        click.echo(
            f"error: {path} exists; not overwritten (remove it or pick another PATH)", err=True
        )
        ctx.exit(EXIT_FAILED)
    click.echo(f"wrote {path}")
    click.echo("next: fill in [tiktok] app_key, app_secret and service_id, then run")
    where = "" if path == Path("config.toml") else f" --config {path}"
    click.echo(f"  sync-job{where} connect")
    ctx.exit(EXIT_OK)
