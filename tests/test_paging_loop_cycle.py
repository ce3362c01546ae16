"""A paging loop ends the run with a clear error and leaves the cursor where it was."""

from __future__ import annotations

from pathlib import Path

import requests
import responses

from sync_job.domain.model import Tokens
from sync_job.domain.windows import WindowRules
from sync_job.engine.cycle import Cycle, CycleDeps
from sync_job.engine.shop import ShopContext
from sync_job.state.store import Store
from sync_job.tiktok.client import TikTokClient
from tests.factories import SETTINGS
from tests.fakes import FakeDealpos
from tests.test_clock import NoTokens

BASE = "https://tiktok.test"
SEARCH = BASE + "/order/202309/orders/search"
NOW = 1_800_000_000
SHOP = "7495000000000000088"


def looping(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
    """Every search page: empty, a token alternating A/B."""
    looping.n = getattr(looping, "n", 0) + 1  # type: ignore[attr-defined]
    token = "AB"[looping.n % 2]  # type: ignore[attr-defined]
    body = '{"code":0,"message":"Success","request_id":"r","data":{"orders":[],'
    return 200, {}, body + f'"next_page_token":"{token}","total_count":0}}}}'


def test_paging_loop_fails_the_run_and_keeps_the_cursor(tmp_path: Path) -> None:
    """Tokens A, B, A: the run fails naming the loop; the orders cursor did not move."""
    store = Store.open(tmp_path / "sync.db", clock=lambda: float(NOW))
    store.advance_cursor(SHOP, "orders", NOW - 600)
    client = TikTokClient(base_url=BASE, auth_url=BASE, app_key="k", app_secret="s",
                          initial_tokens=Tokens("a", 0, "r", 0), token_store=NoTokens(),
                          clock=lambda: float(NOW), sleep=lambda s: None)  # fmt: skip
    deps = CycleDeps(store, client, FakeDealpos(), WindowRules(600, 60, 3600, 3600),
                     create_settle_seconds=60.0, clock=lambda: float(NOW))  # fmt: skip
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.POST, SEARCH, callback=looping)
        result = Cycle(deps, ShopContext(SHOP, "cipher", SETTINGS, "realtime")).run()
    assert result.status == "failed" and "paging loop" in (result.error or "")
    assert store.get_cursor(SHOP, "orders") == NOW - 600
    assert looping.n == 3  # type: ignore[attr-defined]  # A, B, then A again: stop
