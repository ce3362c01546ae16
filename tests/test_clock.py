"""Clocks and windows: a rejected timestamp is re-stamped once; a clock stepping backwards never
moves a cursor backwards and never leaves a stretch of updates unread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_job.domain.errors import InvalidTimestamp
from sync_job.domain.model import Tokens, Window
from sync_job.domain.windows import WindowRules
from sync_job.engine.cycle import Cycle, CycleDeps
from sync_job.engine.shop import ShopContext
from sync_job.sandbox import ManualClock, TikTokSimulator
from sync_job.state.store import Store
from sync_job.tiktok.client import Page, TikTokClient
from tests.factories import SETTINGS, SETTLE_SECONDS, order
from tests.fakes import FakeDealpos

SHOP, CIPHER = "7495000000000000099", "GCP_clock_cipher"
APP_KEY, APP_SECRET = "clock-app", "clock-app-secret"
START = 1_800_000_000
RULES = WindowRules(overlap=600, lag=60, max_window=3600, initial_lookback=3600)
CTX = ShopContext(SHOP, CIPHER, SETTINGS, "realtime")


# -- a rejected timestamp, against the TikTok simulator on loopback -----------------------------


class NoTokens:
    """A token store that never has saved tokens and never needs to save any."""

    def load_tokens(self, app_key: str) -> Tokens | None:
        """Nothing saved yet."""
        return None

    def save_tokens(self, app_key: str, tokens: Tokens) -> None:
        """No refresh is expected in these tests."""
        raise AssertionError("unexpected token refresh")

    def tokens_locked(self) -> contextlib.AbstractContextManager[None]:
        """No other process writes tokens here: nothing to lock."""
        return contextlib.nullcontext()


@pytest.fixture
def sim_clock() -> ManualClock:
    """TikTok's clock."""
    return ManualClock(float(START))


@pytest.fixture
def tiktok(sim_clock: ManualClock) -> Iterator[TikTokSimulator]:
    """A TikTok simulator with one order updated a minute before its now."""
    sim = TikTokSimulator(
        APP_KEY,
        APP_SECRET,
        [(SHOP, CIPHER)],
        access_token="clock-access",
        clock=sim_clock,
        rate_limit_per_second=None,
    )
    sim.put_order(SHOP, order(update_time=START - 60, order_id="576461413038700001"))
    with sim:
        yield sim


def client(sim: TikTokSimulator, clock: Any) -> TikTokClient:
    """A TikTok client of the simulator, stamping requests with `clock`."""
    return TikTokClient(
        base_url=sim.url,
        auth_url=sim.url,
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        initial_tokens=Tokens("clock-access", 0, "clock-refresh", 0),
        token_store=NoTokens(),
        clock=clock,
        sleep=lambda s: None,
        timeout=5,
    )


def test_timestamp_rejected_once_is_restamped_and_the_page_read(tiktok: TikTokSimulator) -> None:
    """A first stamp 20 min behind (the clock is corrected meanwhile): one re-stamp, then data."""
    stamps = iter([START - 1200.0])
    clock = lambda: next(stamps, float(START))  # noqa: E731

    pages = list(client(tiktok, clock).iter_orders(CIPHER, Window(START - 3600, START)))
    assert [o["id"] for p in pages for o in p.items] == ["576461413038700001"]
    search = "POST /order/202309/orders/search"
    assert tiktok.calls.snapshot()[search] == {"400": 1, "200": 1}


def test_timestamp_rejected_twice_raises_instead_of_looping(tiktok: TikTokSimulator) -> None:
    """A clock that stays 20 min behind: exactly two tries, then InvalidTimestamp."""
    behind = client(tiktok, lambda: float(START - 1200))
    with pytest.raises(InvalidTimestamp, match="timestamp"):
        list(behind.iter_orders(CIPHER, Window(START - 3600, START)))
    assert tiktok.calls.count("POST /order/202309/orders/search") == 2


# -- a clock stepping backwards, through real cycles --------------------------------------------


class Shop:
    """TikTok as a cycle sees it: orders appear at their update time of the true clock."""

    def __init__(self, updates: Sequence[int]) -> None:
        self.orders = [
            order(update_time=u, order_id=f"5764614130388{n:05d}", status="UNPAID")
            for n, u in enumerate(updates)
        ]
        self.true_now = 0
        self.windows: list[Window] = []

    def iter_orders(self, shop_cipher: str, window: Window) -> Iterator[Page]:
        """One page: the orders updated inside the window that exist by now."""
        self.windows.append(window)
        items = [
            o
            for o in self.orders
            if window.start <= o["update_time"] < window.end and o["update_time"] <= self.true_now
        ]
        yield Page(items, 1, len(items))

    def iter_returns(self, shop_cipher: str, window: Window) -> Iterator[Page]:
        """No returns."""
        yield Page([], 1, 0)

    def fetch_orders(self, shop_cipher: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Not needed without returns."""
        return []


def run_cycles(shop: Shop, steps: Sequence[tuple[int, int]]) -> tuple[Store, list[int]]:
    """Run one cycle per (true time, local clock skew); return the store and each cursor."""
    local = [0]
    store = Store.memory(clock=lambda: float(local[0]))
    deps = CycleDeps(
        store=store,
        tiktok=shop,
        dealpos=FakeDealpos(),
        create_settle_seconds=SETTLE_SECONDS,
        rules=RULES,
        clock=lambda: float(local[0]),
        sleep=lambda s: None,
    )
    cursors = []
    for true_now, skew in steps:
        shop.true_now, local[0] = true_now, true_now + skew
        result = Cycle(deps, CTX).run()
        assert result.status == "ok", result.error
        cursors.append(store.get_cursor(SHOP, "orders") or 0)
    return store, cursors


def recorded(store: Store) -> set[str]:
    """Ids of every order the snapshot holds."""
    return {r[0] for r in store.db.execute("SELECT order_id FROM orders").fetchall()}


def test_clock_stepping_back_keeps_the_cursor_and_the_next_run_reads_the_gap() -> None:
    """Back by two hours: nothing read, cursor kept; back to normal: every update is read."""
    shop = Shop([START - 30 * 60, START + 10 * 60, START + 50 * 60, START + 90 * 60])
    steps = [(START, 0), (START + 60 * 60, -2 * 3600), (START + 2 * 3600, 0)]
    store, cursors = run_cycles(shop, steps)
    assert cursors == [START - 60, START - 60, START + 2 * 3600 - 60]
    assert shop.windows == [
        Window(START - 3600, START - 60),  # first run: initial lookback
        # (second run, two hours behind: no window at all)
        Window(START - 60 - 600, START + 3540),  # from the kept cursor, minus the overlap
        Window(START + 3540, START + 7140),
    ]
    assert recorded(store) == {o["id"] for o in shop.orders}


def test_clock_stepping_back_a_little_rereads_only_the_overlap() -> None:
    """Back by less than the overlap: a short re-read inside the overlap; cursor unchanged."""
    shop = Shop([START - 100])
    store, cursors = run_cycles(shop, [(START, 0), (START + 30, -300)])
    assert cursors == [START - 60, START - 60]
    assert shop.windows[-1] == Window(START - 60 - 600, START + 30 - 300 - 60)
    assert recorded(store) == {shop.orders[0]["id"]}


STEPS = st.lists(
    st.tuples(st.integers(1, 7200), st.integers(-3 * 86400, RULES.lag)), min_size=1, max_size=8
)


@settings(max_examples=40, derandomize=True, deadline=None, database=None)
@given(
    updates=st.lists(st.integers(-3000, 6 * 3600), min_size=1, max_size=12),
    steps=STEPS,
)
def test_cursor_never_goes_back_and_no_update_is_skipped(
    updates: list[int], steps: list[tuple[int, int]]
) -> None:
    """Any run of clock steps, backwards included: cursors only rise; all before them are read."""
    shop = Shop([START + u for u in updates])
    true_now, timeline = START, []
    for advance, skew in steps:
        true_now += advance
        timeline.append((true_now, skew))
    store, cursors = run_cycles(shop, timeline)
    assert cursors == sorted(cursors)
    if not shop.windows:
        return  # the clock was so far behind that nothing was due yet: nothing to check
    first = shop.windows[0].start  # the first run looks back initial_lookback, by design
    seen = recorded(store)
    due = [o["id"] for o in shop.orders if first <= o["update_time"] < cursors[-1]]
    assert [oid for oid in due if oid not in seen] == []
