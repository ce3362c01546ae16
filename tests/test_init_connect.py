"""`sync-job init` and `sync-job connect` against the real TikTok simulator on loopback."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sync_job.sandbox import defaults
from sync_job.sandbox.tiktok_sim import TikTokSimulator
from sync_job.service.cli import main
from sync_job.service.cli_init import example_config
from sync_job.state.store import Store

REPO = Path(__file__).resolve().parent.parent
APP_SECRET = defaults.TIKTOK_APP_SECRET


@pytest.fixture
def tiktok() -> Iterator[TikTokSimulator]:
    """The sandbox's TikTok simulator (its one authorized shop), on a free port."""
    with defaults.tiktok_simulator() as sim:
        yield sim


def invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run the CLI; return (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, args, env=env or {}, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def tiktok_only(tmp_path: Path, tiktok: TikTokSimulator, extra: str = "") -> Path:
    """The example config with only [tiktok] filled in, as a merchant has it before connect."""
    text = example_config()
    text = text.replace(
        'base_url = "https://open-api.tiktokglobalshop.com"', f'base_url = "{tiktok.url}"'
    )
    text = text.replace('auth_url = "https://auth.tiktok-shops.com"', f'auth_url = "{tiktok.url}"')
    text = text.replace('app_key = "..."', f'app_key = "{defaults.TIKTOK_APP_KEY}"', 1)
    text = text.replace('service_id = "7310000000000000000"', 'service_id = "7310000000000000042"')
    text = text.replace(
        '# authorize_url = "https://services.tiktokshop.com/open/authorize"',
        f'authorize_url = "{tiktok.url}/open/authorize"',
    )
    path = tmp_path / "config.toml"
    path.write_text(text + extra)
    return path


def test_init_writes_the_packaged_example_and_never_overwrites(tmp_path: Path) -> None:
    """init writes the example (mode 0600); a second init exits 1 and leaves the file alone."""
    target = tmp_path / "sub" / "config.toml"
    code, out, _ = invoke(["init", str(target)])
    assert code == 0 and "connect" in out
    assert target.read_text() == (REPO / "config.toml").read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    target.write_text("# mine\n")
    code, _, err = invoke(["init", str(target)])
    assert code == 1 and "exists" in err
    assert target.read_text() == "# mine\n"


def test_packaged_example_is_the_top_level_config() -> None:
    """One source: the package's example is the repository's config.toml."""
    assert example_config() == (REPO / "config.toml").read_text()


def test_wheel_ships_the_example_config(tmp_path: Path) -> None:
    """A built wheel contains the example config (so `init` works from an installed package)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("sync_job-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("sync_job/service/config.example.toml").decode()
    assert shipped == (REPO / "config.toml").read_text()


def test_connect_without_code_prints_the_link(tmp_path: Path, tiktok: TikTokSimulator) -> None:
    """No code: the authorization link with the service id, and how to finish."""
    config = tiktok_only(tmp_path, tiktok)
    code, out, _ = invoke(["--config", str(config), "connect"], {"TIKTOK_APP_SECRET": APP_SECRET})
    assert code == 0
    assert f"{tiktok.url}/open/authorize?service_id=7310000000000000042" in out
    assert "connect --code" in out


def test_connect_without_service_id_names_the_key(tmp_path: Path, tiktok: TikTokSimulator) -> None:
    """The link needs tiktok.service_id: exit 2 naming it (the example's value does not count)."""
    config = tiktok_only(tmp_path, tiktok)
    config.write_text(config.read_text().replace("7310000000000000042", "7310000000000000000"))
    code, _, err = invoke(["--config", str(config), "connect"], {"TIKTOK_APP_SECRET": APP_SECRET})
    assert code == 2 and "tiktok.service_id" in err and "placeholder" in err
    config.write_text(config.read_text().replace('service_id = "7310000000000000000"', ""))
    code, _, err = invoke(["--config", str(config), "connect"], {"TIKTOK_APP_SECRET": APP_SECRET})
    assert code == 2 and "tiktok.service_id: missing" in err


def test_connect_with_code_stores_the_pair_and_prints_blocks(
    tmp_path: Path, tiktok: TikTokSimulator
) -> None:
    """--code: the pair lands in the state DB (replacing one there), the block loads as TOML."""
    config = tiktok_only(tmp_path, tiktok)
    db = tmp_path / "state" / "sync.db"
    code, out, err = invoke(
        ["--config", str(config), "connect", "--code", tiktok.issue_auth_code()],
        {"TIKTOK_APP_SECRET": APP_SECRET},
    )
    assert code == 0, err
    store = Store.open(db)
    first = store.load_tokens(defaults.TIKTOK_APP_KEY)
    store.close()
    assert first is not None and first.access_token == tiktok.tokens[0]
    assert first.access_token not in out and first.refresh_token not in out  # never printed
    assert "[NEW]" in out and defaults.TIKTOK_SHOP_ID in out
    block = out[out.index("[[tiktok.shops]]") : out.index("then run")]
    shop = tomllib.loads(block)["tiktok"]["shops"][0]
    assert (shop["id"], shop["cipher"]) == (defaults.TIKTOK_SHOP_ID, defaults.TIKTOK_SHOP_CIPHER)
    assert shop["outlet"] == "..."  # to fill in: a placeholder the loader refuses
    url = f"https://example.com/cb?code={tiktok.issue_auth_code()}&state=x"
    code, out, _ = invoke(
        ["--config", str(config), "connect", "--redirect-url", url, "--json"],
        {"TIKTOK_APP_SECRET": APP_SECRET},
    )
    assert code == 0
    data = json.loads(out)
    assert data["shops"][0]["id"] == defaults.TIKTOK_SHOP_ID and data["shops"][0]["config_block"]
    store = Store.open(db)
    second = store.load_tokens(defaults.TIKTOK_APP_KEY)
    store.close()
    assert second is not None and second.access_token == tiktok.tokens[0] != first.access_token


def test_connect_marks_configured_shops(tmp_path: Path, tiktok: TikTokSimulator) -> None:
    """A shop already in the config is listed as configured, with no block to paste."""
    config = tiktok_only(tmp_path, tiktok)
    text = config.read_text().replace("7000714532876273420", defaults.TIKTOK_SHOP_ID)
    config.write_text(text)
    code, out, _ = invoke(
        ["--config", str(config), "connect", "--code", tiktok.issue_auth_code()],
        {"TIKTOK_APP_SECRET": APP_SECRET},
    )
    assert code == 0 and "[configured]" in out and "[[tiktok.shops]]" not in out


def test_refused_code_exits_1_with_tiktoks_message(tmp_path: Path, tiktok: TikTokSimulator) -> None:
    """A used or unknown code: TikTok's message, exit 1, no secret printed, nothing stored."""
    config = tiktok_only(tmp_path, tiktok)
    code, out, err = invoke(
        ["--config", str(config), "connect", "--code", "expired-code"],
        {"TIKTOK_APP_SECRET": APP_SECRET},
    )
    assert code == 1
    assert "invalid auth_code: unknown, used or expired" in err
    assert APP_SECRET not in out + err
    store = Store.open(tmp_path / "state" / "sync.db")
    assert store.load_tokens(defaults.TIKTOK_APP_KEY) is None
    store.close()


def test_connect_usage_errors(tmp_path: Path, tiktok: TikTokSimulator) -> None:
    """Both --code and --redirect-url, or a URL without a code: exit 2."""
    config = str(tiktok_only(tmp_path, tiktok))
    env = {"TIKTOK_APP_SECRET": APP_SECRET}
    assert (
        invoke(["--config", config, "connect", "--code", "a", "--redirect-url", "b"], env)[0] == 2
    )
    code, _, err = invoke(["--config", config, "connect", "--redirect-url", "https://x/?s=1"], env)
    assert code == 2 and "no code=" in err


def test_no_token_anywhere_says_to_run_connect(tmp_path: Path, tiktok: TikTokSimulator) -> None:
    """Without a configured or stored pair, the first TikTok call says to run connect."""
    from sync_job.domain.errors import AuthError
    from sync_job.service.app import build_tiktok_client
    from sync_job.service.config import RetryConfig, load_connect_config

    settings = load_connect_config(
        tiktok_only(tmp_path, tiktok), env={"TIKTOK_APP_SECRET": APP_SECRET}
    )
    store = Store.open(tmp_path / "sync.db")
    client = build_tiktok_client(settings.tiktok, RetryConfig(), store)
    with pytest.raises(AuthError, match="run `sync-job connect`"):
        client.fetch_authorized_shops()
    store.close()
    assert tiktok.calls.count() == 0  # refused before any request


def test_connects_pair_survives_the_configured_pair(tmp_path: Path) -> None:
    """After connect, the unchanged configured pair or its removal never replaces the new pair."""
    from sync_job.domain.model import Tokens
    from sync_job.state.tokens import seed_of

    store = Store.open(tmp_path / "sync.db")
    configured = Tokens("cfg-access", 0, "cfg-refresh", 0)
    assert store.seeded_tokens("app", configured) == configured
    connected = Tokens("new-access", 1, "new-refresh", 2)
    store.replace_tokens("app", connected, seed=seed_of("cfg-access", "cfg-refresh"))
    assert store.seeded_tokens("app", configured) == connected
    assert store.seeded_tokens("app", Tokens("", 0, "", 0)) == connected
    store.close()


def test_connected_pair_survives_a_stale_pair_in_the_daemons_env(
    tmp_path: Path, tiktok: TikTokSimulator
) -> None:
    """connect run from a shell with no token env; the daemon's unit still has an old pair:
    the daemon's first run keeps connect's pair (only a later change of its pair replaces it)."""
    from sync_job.domain.model import Tokens

    config = tiktok_only(tmp_path, tiktok)
    code, _, err = invoke(
        ["--config", str(config), "connect", "--code", tiktok.issue_auth_code()],
        {"TIKTOK_APP_SECRET": APP_SECRET},
    )
    assert code == 0, err
    store = Store.open(tmp_path / "state" / "sync.db")
    try:
        stale = Tokens("unit-env-access-old", 0, "unit-env-refresh-old", 0)
        kept = store.seeded_tokens(defaults.TIKTOK_APP_KEY, stale)
        assert kept.access_token == tiktok.tokens[0]
    finally:
        store.close()
