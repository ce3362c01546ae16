"""`sync-job web`: serve the operator page without the daemon, until SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from sync_job.service.cli_common import EXIT_OK, EXIT_USAGE, load


@click.command()
@click.pass_context
def web(ctx: click.Context) -> None:
    """Serve the operator page on [web] listen until SIGTERM/SIGINT (exit 0)."""
    from sync_job.service.web import start_web_if_configured

    config = load(ctx, need_secrets=False)  # the page reads the state DB; no API secret needed
    if config.web.listen is None:
        click.echo('error: web.listen: not set; add [web] listen = "127.0.0.1:8081"', err=True)
        ctx.exit(EXIT_USAGE)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        server = start_web_if_configured(config)  # a taken port: ConfigError, exit 2
        assert server is not None
        click.echo(f"operator page: http://{server.address}/", err=True)
        while not stop.wait(0.5):
            pass
        server.stop()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    ctx.exit(EXIT_OK)
