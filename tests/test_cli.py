"""Commands through click's runner: exit codes, config errors, status and retry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sync_job.service.cli import main
from sync_job.state.locks import ShopLock
from sync_job.state.store import Store
from tests.factories import never_sleep_in_commands

SECRETS = {
    "TIKTOK_APP_SECRET": "app-secret-XYZZY",
    "TIKTOK_ACCESS_TOKEN": "access-token-XYZZY",
    "TIKTOK_REFRESH_TOKEN": "refresh-token-XYZZY",
    "DEALPOS_CLIENT_SECRET": "client-secret-XYZZY",
}

CONFIG = """
[state]
path = "state/sync.db"
[tiktok]
base_url = "http://127.0.0.1:9"
auth_url = "http://127.0.0.1:9"
app_key = "appkey"
[[tiktok.shops]]
id = "shop1"
cipher = "cipher1"
outlet = "Online Store"
[dealpos]
base_url = "http://127.0.0.1:9"
client_id = "client"
"""


def write_config(tmp_path: Path, text: str = CONFIG) -> Path:
    """Write a config file and return its path."""
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run the CLI; return (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, args, env={**SECRETS, **(env or {})}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (CONFIG.replace("overlap", "x") + "[sync]\noverlap_secnds = 5\n", "overlap_seconds"),
        (CONFIG.replace('outlet = "Online Store"', ""), "tiktok.shops[0].outlet"),
        (CONFIG + '[schedule]\ninterval_seconds = "60"\n', "schedule.interval_seconds"),
        (CONFIG.replace("[state]", "[stat]"), "stat"),
    ],
)
def test_bad_config_exits_2_naming_the_key(tmp_path: Path, text: str, needle: str) -> None:
    """A bad config gives one message naming the key and exit code 2, before any network call."""
    code, _, err = invoke(["--config", str(write_config(tmp_path, text)), "once"])
    assert code == 2
    assert needle in err
    assert not (tmp_path / "state").exists()  # nothing was even opened


def test_missing_secret_is_named_without_values(tmp_path: Path) -> None:
    """A missing secret names its key and environment variable."""
    result = CliRunner().invoke(main, ["--config", str(write_config(tmp_path)), "once"], env={})
    assert result.exit_code == 2
    assert "tiktok.app_secret" in result.stderr


def test_unknown_shop_is_a_usage_error(tmp_path: Path) -> None:
    """--shop with an id that is not configured exits 2."""
    code, _, err = invoke(["--config", str(write_config(tmp_path)), "once", "--shop", "nope"])
    assert code == 2 and "no shop with id 'nope' (configured: shop1)" in err  # Config.shop


def test_status_json_on_a_fresh_state(tmp_path: Path) -> None:
    """status --json prints the interface spec's object and no secret."""
    code, out, _ = invoke(["--config", str(write_config(tmp_path)), "status", "--json"])
    assert code == 0
    data = json.loads(out)
    shop = data["shops"][0]
    assert shop["id"] == "shop1"
    assert set(shop) >= {"cursors", "last_run", "outbox", "attention"}
    assert shop["outbox"] == {"pending": 0, "in_flight": 0, "quarantined": 0}
    assert not any(v in out for v in SECRETS.values())


def test_status_table_lists_attention(tmp_path: Path) -> None:
    """The readable status shows open attention items with their messages."""
    config = write_config(tmp_path)
    store = Store.open(tmp_path / "state" / "sync.db")
    store.raise_attention("shop1", "o1", "return", "r1", "return/refund r1 on order o1: edit it")
    store.close()
    code, out, _ = invoke(["--config", str(config), "status"])
    assert code == 0
    assert "[return] return/refund r1 on order o1" in out


def test_retry_requeues_quarantined(tmp_path: Path) -> None:
    """retry --order puts that order's quarantined actions back."""
    from sync_job.domain.flow import Action

    config = write_config(tmp_path)
    store = Store.open(tmp_path / "state" / "sync.db")
    store.replace_outbox("shop1", "o1", [Action("create")], "quarantined", "unknown sku")
    store.close()
    code, out, _ = invoke(["--config", str(config), "retry", "--order", "o1"])
    assert code == 0 and out.startswith("1 quarantined")


def test_unreachable_tiktok_fails_the_shop_with_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TikTok unreachable after retries: the shop's cycle failed → exit 1, and it is recorded."""
    never_sleep_in_commands(monkeypatch)
    config = write_config(tmp_path)
    code, _, err = invoke(["--config", str(config), "once"])
    assert code == 1
    assert not any(v in err for v in SECRETS.values())
    store = Store.open(tmp_path / "state" / "sync.db")
    run = store.last_run("shop1")
    assert run is not None and run["status"] == "failed"


def test_once_finding_the_shop_held_exits_1_naming_the_holder(tmp_path: Path) -> None:
    """A shop held by another live run: exit 1 and say which run holds it (not a silent 0)."""
    config = write_config(tmp_path)
    store = Store.open(tmp_path / "state" / "sync.db")
    holder = ShopLock(store, "shop1", "download:abc123def456")
    holder.acquire()  # this very process: alive, and its lease has not expired
    store.close()
    for command in (["once"], ["backfill", "--from", "2026-11-01"]):
        code, _, err = invoke(["--config", str(config), *command])
        assert code == 1, err
        assert "download:abc123def456" in err and "shop1" in err


NO_SECRETS = dict.fromkeys(
    SECRETS, ""
)  # CliRunner: an empty value unsets nothing, "" is "not given"


def test_status_and_retry_need_no_secrets(tmp_path: Path) -> None:
    """status and retry only use the state DB: they run with no secret anywhere."""
    from sync_job.domain.flow import Action

    config = write_config(tmp_path)
    store = Store.open(tmp_path / "state" / "sync.db")
    store.replace_outbox("shop1", "o1", [Action("create")], "quarantined", "unknown sku")
    store.close()
    code, out, err = invoke(["--config", str(config), "status"], env=NO_SECRETS)
    assert (code, err) == (0, "")
    assert "0 pending, 0 in flight, 1 quarantined" in out
    code, out, err = invoke(["--config", str(config), "retry"], env=NO_SECRETS)
    assert (code, err) == (0, "")
    assert out.startswith("1 quarantined")


def test_status_without_a_state_file_says_so_and_creates_nothing(tmp_path: Path) -> None:
    """No state file yet: status says plainly that nothing has run, and leaves no file behind."""
    config = write_config(tmp_path)
    code, out, _ = invoke(["--config", str(config), "status"], env=NO_SECRETS)
    assert code == 0
    assert f"no state file yet at {tmp_path / 'state' / 'sync.db'}: nothing has run yet" in out
    code, out, _ = invoke(["--config", str(config), "status", "--json"], env=NO_SECRETS)
    assert code == 0
    assert json.loads(out)["shops"][0]["last_run"] == {}
    code, out, _ = invoke(["--config", str(config), "retry"], env=NO_SECRETS)
    assert code == 0 and "nothing to retry" in out
    assert not (tmp_path / "state").exists()


def test_status_opens_the_state_read_only(tmp_path: Path) -> None:
    """status writes nothing: the file's bytes are unchanged and no WAL is written."""
    config = write_config(tmp_path)
    path = tmp_path / "state" / "sync.db"
    Store.open(path).close()  # closing the last connection checkpoints and removes the WAL
    before = path.read_bytes()
    code, _, _ = invoke(["--config", str(config), "status"], env=NO_SECRETS)
    assert code == 0
    assert path.read_bytes() == before
    wal = path.with_name("sync.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_secret_with_inner_newline_exits_2_naming_the_key_not_the_value(tmp_path: Path) -> None:
    """An access token with a newline inside is refused at load (exit 2, before any network call
    or state file), naming the key; a trailing newline alone is simply stripped."""
    config = str(write_config(tmp_path))
    code, _, err = invoke(["--config", config, "once"], {"TIKTOK_ACCESS_TOKEN": "acc\ness-XYZZY"})
    assert code == 2 and "tiktok.access_token" in err
    assert "XYZZY" not in err and not (tmp_path / "state").exists()
    code, _, err = invoke(
        ["--config", config, "once", "--shop", "nope"], {"TIKTOK_ACCESS_TOKEN": "access-XYZZY\n"}
    )
    assert code == 2 and "--shop nope" in err  # the config itself loaded fine
