"""Wiring: build the store and both clients from a Config; run cycles over the shops."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import structlog

from sync_job.dealpos.client import DealposClient
from sync_job.dealpos.pacer import Pacer
from sync_job.domain.flow import Mode
from sync_job.domain.invoice import InvoiceSettings
from sync_job.domain.model import Tokens
from sync_job.domain.windows import STREAMS, WindowRules, day_bounds, range_windows
from sync_job.engine.budget import RunBudget
from sync_job.engine.cycle import Cycle, CycleDeps, CycleResult
from sync_job.engine.shop import ShopContext
from sync_job.engine.trigger import work_off_inbox
from sync_job.service.config import Config, RetryConfig, ShopConfig, TikTokConfig
from sync_job.service.logs import register_secrets
from sync_job.service.progress import NullProgress, Progress
from sync_job.state.quota import SharedQuota
from sync_job.state.retention import apply_retention_if_due
from sync_job.state.store import Store
from sync_job.state.tokens import seed_of
from sync_job.tiktok.client import TikTokClient

log = structlog.get_logger(__name__)


def invoice_settings(config: Config, shop: ShopConfig) -> InvoiceSettings:
    """The invoice settings of one shop."""
    return InvoiceSettings(
        outlet=shop.outlet,
        tag=shop.tag,
        invoice_prefix=shop.invoice_prefix,
        timezone=config.sync.tz,
        payment_method=config.dealpos.payment_method,
        default_customer=config.dealpos.default_customer,
        shipping_variant=config.dealpos.shipping_variant,
        sku_map=config.sku_map,
    )


def window_rules(config: Config) -> WindowRules:
    """The cursor rules of `[sync]`."""
    s = config.sync
    return WindowRules(
        s.overlap_seconds, s.lag_seconds, s.max_window_seconds, s.initial_lookback_seconds
    )


def shop_context(config: Config, shop: ShopConfig, mode: Mode) -> ShopContext:
    """Everything recording and pushing need about one shop."""
    return ShopContext(
        shop_id=shop.id,
        cipher=shop.cipher,
        settings=invoice_settings(config, shop),
        mode=mode,
        settle_always=config.sync.settle_completed == "always",
    )


class RedactingTokenStore:
    """Saves refreshed TikTok tokens in the state DB and teaches the log redactor about them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def load_tokens(self, app_key: str) -> Tokens | None:
        """The newest saved tokens (their values are registered as secrets)."""
        tokens = self.store.load_tokens(app_key)
        if tokens is not None:
            register_secrets([tokens.access_token, tokens.refresh_token])
        return tokens

    def save_tokens(self, app_key: str, tokens: Tokens) -> None:
        """Register both new tokens as secrets, then persist them in one write."""
        register_secrets([tokens.access_token, tokens.refresh_token])
        self.store.save_tokens(app_key, tokens)

    def tokens_locked(self) -> contextlib.AbstractContextManager[None]:
        """The state DB's write lock, which every process takes to write tokens."""
        return self.store.tokens_locked()


def configured_seed(config: Config) -> str:
    """The fingerprint of the token pair configured now (env, credentials or config.toml)."""
    tt = config.tiktok
    return seed_of(tt.access_token.reveal(), tt.refresh_token.reveal())


def build_tiktok(
    config: Config, store: Store, *, clock: Callable[[], float], sleep: Callable[[float], None]
) -> TikTokClient:
    """A TikTok client whose refreshed tokens live in the state database."""
    return build_tiktok_client(config.tiktok, config.retry, store, clock=clock, sleep=sleep)


def build_tiktok_client(
    tt: TikTokConfig,
    retry: RetryConfig,
    store: Store,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> TikTokClient:
    """A TikTok client from the [tiktok] settings alone (`sync-job connect` has no more).

    The stored pair wins over the configured one until the configured pair changes; then the
    new configured pair replaces it (see state/tokens.py).
    """
    configured = Tokens(tt.access_token.reveal(), 0, tt.refresh_token.reveal(), 0)
    initial = store.seeded_tokens(tt.app_key, configured)
    return TikTokClient(
        base_url=tt.base_url,
        auth_url=tt.auth_url,
        app_key=tt.app_key,
        app_secret=tt.app_secret.reveal(),
        initial_tokens=initial,
        token_store=RedactingTokenStore(store),
        timeout=tt.timeout_seconds,
        clock=clock,
        sleep=sleep,
        max_attempts=retry.max_attempts,
        max_backoff=retry.max_backoff_seconds,
    )


def build_dealpos(
    config: Config, *, sleep: Callable[[float], None], shared: Store | None = None
) -> DealposClient:
    """A DealPOS client paced to the configured quota.

    `shared`: the open state file; also pace by the calls of every process using it.
    """
    dp = config.dealpos
    quota = None
    if shared is not None:
        tenant = f"{dp.base_url} {dp.client_id}"
        quota = SharedQuota(shared, tenant, dp.rate_limit, dp.rate_window_seconds)
    return DealposClient(
        base_url=dp.base_url,
        client_id=dp.client_id,
        client_secret=dp.client_secret.reveal(),
        pacer=Pacer(dp.rate_limit, dp.rate_window_seconds, sleep=sleep, shared=quota),
        timeout=dp.timeout_seconds,
    )


@dataclass
class App:
    """A configured program: store, clients, and how to run a shop's cycle."""

    config: Config
    store: Store
    tiktok: TikTokClient
    dealpos: DealposClient
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    should_stop: Callable[[], bool] = lambda: False
    progress: Progress = field(default_factory=NullProgress)
    budget: RunBudget = field(default_factory=RunBudget)  # `sleep` already goes through it
    token_store: Store | None = None  # the tokens' own connection to the state file

    @classmethod
    def open(
        cls,
        config: Config,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> App:
        """Open the state database and build both clients (no network call yet)."""
        store = Store.open(config.state.path, clock=clock)
        # Every wait of both clients and the pusher goes through the run budget.
        budget = RunBudget(config.sync.run_budget_seconds, sleep=sleep)
        # Token writes go through a connection of their own, so they commit at once and never
        # join (or wait on) whatever transaction the cycle has open on `store`.
        token_store = store.second_connection()
        tiktok = build_tiktok(config, token_store, clock=clock, sleep=budget.sleep)
        dealpos = build_dealpos(config, sleep=budget.sleep, shared=store)
        return cls(
            config,
            store,
            tiktok,
            dealpos,
            clock,
            budget.sleep,
            budget=budget,
            token_store=token_store,
        )

    def close(self) -> None:
        """Close the state database (both connections)."""
        try:
            if self.token_store is not None and self.token_store is not self.store:
                self.token_store.close()
        finally:
            self.store.close()

    def deps(self) -> CycleDeps:
        """The cycle's collaborators."""
        stats = self.dealpos.stats
        return CycleDeps(
            store=self.store,
            tiktok=self.tiktok,
            dealpos=self.dealpos,
            rules=window_rules(self.config),
            create_settle_seconds=self.config.dealpos.create_settle_seconds,
            retry=self.config.retry,
            clock=self.clock,
            sleep=self.sleep,
            should_stop=self.should_stop,
            dealpos_stats=lambda: (stats.calls, stats.rate_limited),
            progress=self.progress,
            budget=self.budget,
        )

    def shops(self, only: str | None) -> Sequence[ShopConfig]:
        """The configured shops, or the one named by --shop."""
        return [s for s in self.config.tiktok.shops if only is None or s.id == only]

    def _run_shops(
        self, shop_id: str | None, make: Callable[[ShopConfig], Cycle]
    ) -> list[CycleResult]:
        """Run each shop's cycle in turn; one shop failing never stops the others."""
        results = []
        for shop in self.shops(shop_id):
            if self.should_stop():
                break  # shutting down: do not start another shop
            results.append(make(shop).run())
        return results

    def run_once(self, shop_id: str | None, *, dry_run: bool = False) -> list[CycleResult]:
        """One real-time cycle per shop, all within one run budget (`sync.run_budget_seconds`)."""
        deps = self.deps()
        self.budget.start()
        try:
            results = self._run_shops(
                shop_id,
                lambda shop: Cycle(
                    deps, shop_context(self.config, shop, "realtime"), dry_run=dry_run
                ),
            )
        finally:
            self.budget.clear()
        if not dry_run:
            self.retain()
        return results

    def retain(self) -> None:
        """Apply `[retention]` when a day has passed since it last ran; never fails a run."""
        try:
            done = apply_retention_if_due(self.store, self.config.retention)
        except sqlite3.Error:
            log.exception("retention failed; trying again after the next run")
            return
        if done is not None:
            log.info("retention applied", runs_deleted=done.runs_deleted,
                     orders_slimmed=done.orders_slimmed)  # fmt: skip

    def run_inbox(self) -> list[CycleResult]:
        """Work off the stored webhook notifications: fetch those orders, record, push."""
        contexts = {
            shop.id: shop_context(self.config, shop, "realtime") for shop in self.shops(None)
        }
        return work_off_inbox(self.deps(), contexts)

    def run_backfill(
        self, first: date, last: date | None, shop_id: str | None, *, dry_run: bool = False
    ) -> list[CycleResult]:
        """The seed's "manual download": re-read a date range and settle completed orders."""
        return self._run_range(first, last, shop_id, "download", dry_run=dry_run)

    def run_refresh(self, first: date, shop_id: str | None) -> list[CycleResult]:
        """`verify --refresh`: re-read orders updated since `first` and record them, no push.

        Real-time mode (nothing is settled) and the daemon's cursors stay as they were.
        """
        return self._run_range(first, None, shop_id, "realtime", push=False)

    def _run_range(
        self, first: date, last: date | None, shop_id: str | None, mode: Mode, **cycle: bool
    ) -> list[CycleResult]:
        """One cycle per shop over a fixed date range (never the cursors)."""
        start, end = day_bounds(first, last, self.config.sync.tz, int(self.clock()))
        windows = list(range_windows(start, end, self.config.sync.max_window_seconds))
        deps = self.deps()
        return self._run_shops(
            shop_id,
            lambda shop: Cycle(
                deps,
                shop_context(self.config, shop, mode),
                range_windows=dict.fromkeys(STREAMS, windows),
                **cycle,
            ),
        )
