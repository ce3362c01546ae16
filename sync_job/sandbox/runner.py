"""`sync-job sandbox`: both simulators, the order generator and the daemon, in one process.

This is the embedded default that `make run` shows: no TikTok app or DealPOS tenant needed.
"""

from __future__ import annotations

import secrets
import socket
import threading
from pathlib import Path
from typing import Any

import click

from sync_job.sandbox import defaults, tamper_demo
from sync_job.sandbox.dealpos_page import PageExtras
from sync_job.sandbox.dealpos_sim import DealposSimulator
from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.sandbox.invoices import TenantMode
from sync_job.sandbox.playground import fresh_state, next_steps, write_config
from sync_job.sandbox.tiktok_sim import AUTHORIZE_PATH, TikTokSimulator
from sync_job.sandbox.webhooks import WebhookSender
from sync_job.service.config import Config, parse_config
from sync_job.service.web import readmodel

GENERATOR_TICK_SECONDS = 1.0


WEBHOOK_PATH = "/tiktok/webhook"


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the daemon binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def sandbox_settings(
    tiktok_url: str,
    dealpos_url: str,
    state_dir: Path,
    webhook_listen: str | None = None,
    web: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The embedded configuration: short windows and interval so a person sees changes quickly.

    `web`: the operator page's [web] table (loopback listen and a token made for this run).
    """
    hook = {} if webhook_listen is None else {"webhook": {"listen": webhook_listen}}
    page = {} if web is None else {"web": web}
    return {
        **hook,
        **page,
        "state": {"path": str(state_dir / "sync.db")},
        "schedule": {"interval_seconds": 5, "jitter_seconds": 0},
        "sync": {
            "overlap_seconds": 300,
            "lag_seconds": 2,
            "initial_lookback_seconds": 3600,
            # Completed orders get paid at once, so the sandbox shows every state within minutes.
            "settle_completed": "always",
        },
        "tiktok": {
            "base_url": tiktok_url,
            "auth_url": tiktok_url,
            "app_key": defaults.TIKTOK_APP_KEY,
            "app_secret": defaults.TIKTOK_APP_SECRET,
            "access_token": defaults.TIKTOK_ACCESS_TOKEN,
            "refresh_token": defaults.TIKTOK_REFRESH_TOKEN,
            "service_id": defaults.TIKTOK_SERVICE_ID,
            "authorize_url": f"{tiktok_url}{AUTHORIZE_PATH}",
            "shops": [
                {
                    "id": defaults.TIKTOK_SHOP_ID,
                    "cipher": defaults.TIKTOK_SHOP_CIPHER,
                    "outlet": defaults.DEALPOS_OUTLET,
                }
            ],
        },
        "dealpos": {
            "base_url": dealpos_url,
            "client_id": defaults.DEALPOS_CLIENT_ID,
            "client_secret": defaults.DEALPOS_CLIENT_SECRET,
            "payment_method": defaults.DEALPOS_PAYMENT_METHOD,
        },
    }


def start_simulators(
    seed: int, dealpos_mode: TenantMode | None = None
) -> tuple[TikTokSimulator, DealposSimulator]:
    """Start both simulators on free loopback ports (DealPOS in `dealpos_mode`)."""
    tiktok = defaults.tiktok_simulator(seed=seed)
    dealpos = defaults.dealpos_simulator(seed=seed, mode=dealpos_mode)
    tiktok.start()
    dealpos.start()
    return tiktok, dealpos


def _generate(generator: LifecycleGenerator, stop: threading.Event) -> None:
    """Move the simulated shop forward once a second until stopped."""
    generator.new_order()  # something to see on the first cycle
    while not stop.wait(GENERATOR_TICK_SECONDS):
        generator.step()


def _webhook_line(config: Config) -> str:
    hook = config.webhook
    if hook.listen is None:
        return "off (polling alone)"
    return f"TikTok pushes order changes to http://{hook.listen}{hook.path}"


def operator_url(config: Config) -> str | None:
    """The operator page's address, when [web] is on."""
    listen = config.web.listen
    return None if listen is None else f"http://{listen}/"


def _page_line(config: Config) -> str:
    url, token = operator_url(config), config.web.admin_token
    if url is None:
        return "off"
    # The sandbox made this token for this run only; it guards simulated data.
    return url if token is None else f"{url}  (admin token for its buttons: {token.reveal()})"


def _banner(config: Config, tiktok: TikTokSimulator, dealpos: DealposSimulator) -> str:
    return (
        "sync-job sandbox: simulated TikTok Shop and DealPOS on this machine\n"
        f"  operator page:       {_page_line(config)}\n"
        f"  watch the invoices:  {dealpos.url}/\n"
        f"  TikTok state (JSON): {tiktok.url}/_sandbox/state\n"
        f"  DealPOS state (JSON): {dealpos.url}/_sandbox/state\n"
        f"  webhooks:            {_webhook_line(config)}\n"
        f"  state database:      {config.state.path}\n"
        f"  DealPOS quota:       {config.dealpos.rate_limit} calls per "
        f"{config.dealpos.rate_window_seconds:g} s\n"
        "  Ctrl-C stops everything."
    )


def page_extras(config: Config, tiktok: TikTokSimulator) -> PageExtras:
    """Let the DealPOS watch page show each invoice's TikTok status and the open work items."""
    shop = config.tiktok.shops[0].id

    def tiktok_status(reference: str) -> str | None:
        order = tiktok.order(shop, reference)
        return None if order is None else str(order.get("status", ""))

    def attention() -> list[dict[str, Any]]:
        conn = readmodel.connect_readonly(config.state.path)
        if conn is None:
            return []
        try:
            found = readmodel.attention(conn, shop, kind=None, resolved=False, page=1, size=10)
        finally:
            conn.close()
        return found.rows

    return PageExtras(tiktok_status, attention, operator_url(config))


def start_webhooks(tiktok: TikTokSimulator, listen: str) -> WebhookSender:
    """Make the TikTok simulator send signed webhooks to the daemon's receiver at `listen`."""
    sender = WebhookSender(
        f"http://{listen}{WEBHOOK_PATH}", tiktok.app_key, tiktok.app_secret
    ).start()
    tiktok.webhooks = sender
    return sender


def run_sandbox(
    state_dir: Path,
    *,
    seed: int | None = None,
    webhooks: bool = True,
    tamper: bool = False,
    dealpos_mode: TenantMode | None = None,
) -> int:
    """Run simulators + generator + daemon until Ctrl-C; returns the exit code.

    `webhooks`: the simulator also pushes signed webhooks to the daemon (near real time).
    `tamper`: later, DealPOS is edited by hand, for `sync-job verify` to catch.
    `dealpos_mode`: how the simulated DealPOS tenant behaves (renumbering, field names, delete).
    """
    from sync_job.service.daemon import (
        run_daemon,
    )  # the daemon pulls in APScheduler: only when needed

    state_dir = state_dir.resolve()
    fresh_state(state_dir)  # the simulators start empty: old state would only contradict them
    tiktok, dealpos = start_simulators(seed or 0, dealpos_mode)
    listen = f"127.0.0.1:{free_port()}" if webhooks else None
    sender = start_webhooks(tiktok, listen) if listen else None
    stop = threading.Event()
    generator = LifecycleGenerator(tiktok, defaults.TIKTOK_SHOP_ID, seed=seed or 0)
    feeder = threading.Thread(target=_generate, args=(generator, stop), daemon=True)
    try:
        web = {"listen": f"127.0.0.1:{free_port()}", "admin_token": secrets.token_urlsafe(18)}
        settings = sandbox_settings(tiktok.url, dealpos.url, state_dir, listen, web)
        config = parse_config(settings, env={})
        dealpos.page_extras = page_extras(config, tiktok)
        click.echo(_banner(config, tiktok, dealpos), err=True)
        config_path = write_config(settings, state_dir)
        click.echo(next_steps(config_path), err=True)
        feeder.start()
        if tamper:  # edit DealPOS by hand later, so `sync-job verify` has something to catch
            tamper_demo.start(dealpos, config_path, stop, lambda text: click.echo(text, err=True))
        return run_daemon(config)
    finally:
        stop.set()
        if sender is not None:
            sender.stop()
        tiktok.stop()
        dealpos.stop()
