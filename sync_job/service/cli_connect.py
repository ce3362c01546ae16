"""`sync-job connect`: authorize the app for a shop, store the token pair, print config blocks.

The steps are separate functions (link, exchange, list, render) so another step, such as
subscribing webhooks, can be added after the shops are listed without touching the others.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import click

from sync_job.domain.errors import ConfigError, RemoteError
from sync_job.domain.model import Tokens
from sync_job.service.app import build_tiktok_client
from sync_job.service.cli_common import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from sync_job.service.config import (
    ConnectConfig,
    RetryConfig,
    find_config_path,
    load_connect_config,
)
from sync_job.service.logs import register_secrets
from sync_job.service.subscribe import EVENT_TYPES, check_address, subscribe_webhooks
from sync_job.state.store import Store


@dataclass(frozen=True)
class AuthorizedShop:
    """One shop the app may act for, as "get authorized shops" lists it."""

    id: str
    cipher: str
    name: str
    region: str
    seller_type: str
    configured: bool

    @classmethod
    def parse(cls, raw: dict[str, Any], configured: frozenset[str]) -> AuthorizedShop:
        """Read one entry of `data.shops[]` (ids are strings, whatever TikTok sent)."""
        shop_id = str(raw.get("id", ""))
        return cls(
            id=shop_id,
            cipher=str(raw.get("cipher", "")),
            name=str(raw.get("name", "")),
            region=str(raw.get("region", "")),
            seller_type=str(raw.get("seller_type", "")),
            configured=shop_id in configured,
        )


def authorization_link(settings: ConnectConfig) -> str:
    """The link a seller opens to authorize the app (needs tiktok.service_id)."""
    service_id = settings.tiktok.service_id
    if service_id is None:
        raise ConfigError(
            "tiktok.service_id", "missing; copy your app's service id from TikTok Partner Center"
        )
    return f"{settings.tiktok.authorize_url}?service_id={quote(service_id, safe='')}"


def code_from_redirect(url: str) -> str | None:
    """The `code` query parameter of the redirect URL the seller landed on, if any."""
    codes = parse_qs(urlsplit(url.strip()).query).get("code", [])
    return codes[0] if codes and codes[0] else None


def exchange_and_list(
    settings: ConnectConfig, store: Store, code: str
) -> tuple[Tokens, list[AuthorizedShop]]:
    """Trade the code for a pair (stored, replacing any), then list the authorized shops."""
    client = build_tiktok_client(settings.tiktok, RetryConfig(), store)
    tokens = client.exchange_auth_code(code)
    tt = settings.tiktok
    # No seed: whichever pair the next run finds configured (the shell running `connect` often
    # has other env than the daemon) becomes the baseline, and only a later change replaces it.
    store.replace_tokens(tt.app_key, tokens, seed=None)
    shops = client.fetch_authorized_shops()
    return tokens, [AuthorizedShop.parse(s, settings.configured_shops) for s in shops]


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML escapes)."""
    return json.dumps(text, ensure_ascii=False)


def shop_block(shop: AuthorizedShop) -> str:
    """A ready `[[tiktok.shops]]` block; `outlet = "..."` must be filled in before it loads."""
    about = ", ".join(p for p in (shop.region, shop.seller_type) if p)
    return "\n".join(
        [
            f"# {shop.name or 'shop ' + shop.id}" + (f" ({about})" if about else ""),
            "[[tiktok.shops]]",
            f"id = {_toml_string(shop.id)}",
            f"cipher = {_toml_string(shop.cipher)}",
            'outlet = "..."                    # FILL IN: the DealPOS outlet for these invoices',
            'tag = "TikTok"                    # DealPOS channel tag',
            'invoice_prefix = "TT-"            # invoice Number = prefix + TikTok order id',
        ]
    )


def render_text(tokens: Tokens, shops: list[AuthorizedShop]) -> str:
    """What a person reads: the stored pair's expiry, every shop, blocks for the new ones."""
    lines = [f"connected: token pair stored in the state database ({_expiry(tokens)})"]
    lines.append(f"authorized shops: {len(shops)}")
    for shop in shops:
        mark = "configured" if shop.configured else "NEW"
        lines.append(f"  {shop.id}  {shop.name}  {shop.region}  cipher {shop.cipher}  [{mark}]")
    new = [s for s in shops if not s.configured]
    if new:
        lines += [
            "",
            "Paste into config.toml (replacing the example shop), then fill in outlet:",
            "",
        ]
        lines += [shop_block(s) + "\n" for s in new]
        lines.append("then run: sync-job check")
    else:
        lines.append("every authorized shop is configured; next: sync-job check")
    return "\n".join(lines)


def render_json(tokens: Tokens, shops: list[AuthorizedShop]) -> str:
    """One JSON object: token expiry (never the tokens), shops, and blocks for the new ones."""
    return json.dumps(
        {
            "token": {
                "access_expires_at": tokens.access_expires_at,
                "refresh_expires_at": tokens.refresh_expires_at,
            },
            "shops": [
                {
                    "id": s.id,
                    "name": s.name,
                    "region": s.region,
                    "cipher": s.cipher,
                    "seller_type": s.seller_type,
                    "configured": s.configured,
                    "config_block": None if s.configured else shop_block(s),
                }
                for s in shops
            ],
        },
        indent=2,
    )


def _expiry(tokens: Tokens) -> str:
    if not tokens.access_expires_at:
        return "access token expiry not given"
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(tokens.access_expires_at, UTC)
    return f"access token valid until {when:%Y-%m-%d %H:%M} UTC, refreshed automatically"


def _load(ctx: click.Context) -> ConnectConfig:
    """Load [state] and [tiktok], or exit 2 naming the key."""
    try:
        settings = load_connect_config(find_config_path(ctx.obj["config_path"], os.environ))
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_USAGE)
    tt = settings.tiktok
    register_secrets(s.reveal() for s in (tt.app_secret, tt.access_token, tt.refresh_token))
    return settings


def _code(ctx: click.Context, code: str | None, redirect_url: str | None) -> str | None:
    """The auth code from --code or --redirect-url (exit 2 when both or an unusable URL)."""
    if code is not None and redirect_url is not None:
        click.echo("error: give --code or --redirect-url, not both", err=True)
        ctx.exit(EXIT_USAGE)
    if redirect_url is None:
        return code.strip() if code else code
    found = code_from_redirect(redirect_url)
    if found is None:
        click.echo("error: --redirect-url: no code= parameter in that URL", err=True)
        ctx.exit(EXIT_USAGE)
    return found


def _print_link(ctx: click.Context, settings: ConnectConfig) -> None:
    """Print the authorization link and how to finish; exit 2 without a service id."""
    try:
        link = authorization_link(settings)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_USAGE)
    click.echo("1. Open this link logged in as the shop's seller and approve the app:")
    click.echo(f"   {link}")
    click.echo("2. TikTok redirects to your app's redirect URL with ?code=...; at once run")
    click.echo("   sync-job connect --code CODE    (or --redirect-url 'THE WHOLE URL')")
    click.echo("   The code is single-use and expires within minutes.")


@click.command()
@click.option("--code", metavar="CODE", help="The auth_code from the redirect after approval.")
@click.option("--redirect-url", metavar="URL", help="The whole redirect URL (its code is used).")
@click.option(
    "--subscribe",
    "subscribe_url",
    metavar="URL",
    help="Also subscribe this public https:// URL of [webhook] path to TikTok's order, "
    "cancellation and return webhooks.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def connect(
    ctx: click.Context,
    code: str | None,
    redirect_url: str | None,
    subscribe_url: str | None,
    as_json: bool,
) -> None:
    """Authorize a shop: print the link, or exchange the code and print [[tiktok.shops]] blocks."""
    auth_code = _code(ctx, code, redirect_url)
    address = _subscribe_address(ctx, subscribe_url)
    settings = _load(ctx)
    if auth_code is None and address is not None:
        _subscribe(ctx, settings, address, as_json)
        ctx.exit(EXIT_OK)
    if auth_code is None:
        _print_link(ctx, settings)
        ctx.exit(EXIT_OK)
    store = Store.open(settings.state.path)
    try:
        tokens, shops = exchange_and_list(settings, store, auth_code)
    except RemoteError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_FAILED)
    finally:
        store.close()
    click.echo(render_json(tokens, shops) if as_json else render_text(tokens, shops))
    if address is not None:
        _subscribe(ctx, settings, address, as_json)
    ctx.exit(EXIT_OK)


def _subscribe_address(ctx: click.Context, url: str | None) -> str | None:
    """The --subscribe URL checked (exit 2 when it cannot be a webhook address)."""
    if url is None:
        return None
    try:
        return check_address(url)
    except ConfigError as exc:
        click.echo(f"error: {exc.key} {url!r}: {exc.problem}", err=True)
        ctx.exit(EXIT_USAGE)
    raise AssertionError  # unreachable: ctx.exit raises


def _subscribe(ctx: click.Context, settings: ConnectConfig, address: str, as_json: bool) -> None:
    """Subscribe the three webhooks with the stored token pair; exit 1 when TikTok refuses.

    With --json the report goes to stderr, so stdout stays one JSON object.
    """
    store = Store.open(settings.state.path)
    try:
        client = build_tiktok_client(settings.tiktok, RetryConfig(), store)
        listed = subscribe_webhooks(client, address)
    except RemoteError as exc:
        click.echo(f"error: subscribing the webhooks failed: {exc}", err=True)
        ctx.exit(EXIT_FAILED)
    finally:
        store.close()
    click.echo(
        f"webhooks subscribed ({len(listed)} of {len(EVENT_TYPES)} event types):", err=as_json
    )
    for event, where in listed:
        click.echo(f"  {event} -> {where}", err=as_json)
    if {e for e, where in listed if where == address} != set(EVENT_TYPES):
        click.echo("error: TikTok does not list every event type at that address", err=True)
        ctx.exit(EXIT_FAILED)
