"""`sync-job connect --subscribe URL` against the real TikTok simulator on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sync_job.domain.errors import ConfigError
from sync_job.net.retrying import RetryConfig
from sync_job.sandbox.faults import Fault
from sync_job.sandbox.tiktok_sim import TikTokSimulator
from sync_job.service import cli_connect
from sync_job.service.app import build_tiktok_client
from sync_job.service.subscribe import EVENT_TYPES, check_address
from tests.test_init_connect import APP_SECRET, invoke, tiktok, tiktok_only

__all__ = ["tiktok"]  # the fixture, imported for pytest

URL = "https://shop-sync.example.com/tiktok/webhook"
ENV = {"TIKTOK_APP_SECRET": APP_SECRET}


def test_connect_with_code_and_subscribe_registers_the_three_events(
    tmp_path: Path, tiktok: TikTokSimulator
) -> None:
    """After the exchange, the three order events point at the URL and are listed back."""
    config = str(tiktok_only(tmp_path, tiktok))
    code, out, err = invoke(
        ["--config", config, "connect", "--code", tiktok.issue_auth_code(), "--subscribe", URL],
        ENV,
    )
    assert code == 0, err
    assert tiktok.subscriptions == dict.fromkeys(EVENT_TYPES, URL)
    assert "webhooks subscribed (3 of 3 event types)" in out
    assert f"ORDER_STATUS_CHANGE -> {URL}" in out


def test_subscribe_alone_uses_the_stored_pair_and_json_stays_parseable(
    tmp_path: Path, tiktok: TikTokSimulator
) -> None:
    """`connect --subscribe` without a code works with the pair connect stored; --json output
    stays one JSON object (the report goes to stderr)."""
    config = str(tiktok_only(tmp_path, tiktok))
    code, out, _ = invoke(
        ["--config", config, "connect", "--code", tiktok.issue_auth_code(), "--json",
         "--subscribe", URL],
        ENV,
    )  # fmt: skip
    assert code == 0 and json.loads(out)["shops"]
    other = "https://other.example.com/hook"
    code, out, err = invoke(["--config", config, "connect", "--subscribe", other], ENV)
    assert code == 0, err
    assert set(tiktok.subscriptions.values()) == {other}


def test_refused_subscription_exits_1(
    tmp_path: Path, tiktok: TikTokSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TikTok refusing the PUT: retried as usual, then exit 1 with the reason, no traceback."""
    waits: list[float] = []  # the retry back-off, recorded instead of slept (seconds each)
    monkeypatch.setattr(  # the name connect calls: the real builder, with a recording sleep
        cli_connect,
        "build_tiktok_client",
        lambda *a, **kw: build_tiktok_client(*a, **kw, sleep=waits.append),
    )
    config = str(tiktok_only(tmp_path, tiktok))
    assert invoke(["--config", config, "connect", "--code", tiktok.issue_auth_code()], ENV)[0] == 0
    tiktok.faults.queue(Fault.SERVER_ERROR, times=50, endpoint="PUT /event/202309/webhooks")
    code, _, err = invoke(["--config", config, "connect", "--subscribe", URL], ENV)
    assert code == 1 and "subscribing the webhooks failed" in err
    attempts = RetryConfig().max_attempts
    assert tiktok.calls.count("PUT /event/202309/webhooks") == attempts
    assert len(waits) == attempts - 1 and all(w > 0 for w in waits)


@pytest.mark.parametrize(
    "url",
    ["http://shop-sync.example.com/hook", "ftp://x/y", "https://", "https://x/hook?a=1", "hook"],
)
def test_an_address_tiktok_cannot_call_is_a_usage_error(
    tmp_path: Path, tiktok: TikTokSimulator, url: str
) -> None:
    """Plain http (except loopback), no host, a query: exit 2 before any call."""
    config = str(tiktok_only(tmp_path, tiktok))
    code, _, err = invoke(["--config", config, "connect", "--subscribe", url], ENV)
    assert code == 2 and "--subscribe" in err
    assert tiktok.calls.count() == 0


def test_loopback_http_is_accepted_for_the_sandbox() -> None:
    """The sandbox's receiver is plain http on loopback."""
    assert check_address("http://127.0.0.1:8080/tiktok/webhook") == (
        "http://127.0.0.1:8080/tiktok/webhook"
    )
    with pytest.raises(ConfigError):
        check_address("http://10.0.0.5:8080/tiktok/webhook")
