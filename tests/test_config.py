"""Tests for reading and validating config.toml."""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest

from sync_job.domain.errors import ConfigError
from sync_job.service.config import (
    Config,
    DealposConfig,
    MetricsConfig,
    ScheduleConfig,
    Secret,
    ShopConfig,
    StateConfig,
    SyncConfig,
    TikTokConfig,
    WebConfig,
    WebhookConfig,
    find_config_path,
    load_config,
    parse_config,
)

REPO = Path(__file__).resolve().parent.parent

# Distinctive values, so a leak into any message is easy to spot.
FILE_SECRETS = {
    "tiktok.app_secret": "file-app-secret-1111",
    "tiktok.access_token": "file-access-token-2222",
    "tiktok.refresh_token": "file-refresh-token-3333",
    "dealpos.client_secret": "file-client-secret-4444",
}
ENV_SECRETS = {
    "TIKTOK_APP_SECRET": "env-app-secret-5555",
    "TIKTOK_ACCESS_TOKEN": "env-access-token-6666",
    "TIKTOK_REFRESH_TOKEN": "env-refresh-token-7777",
    "DEALPOS_CLIENT_SECRET": "env-client-secret-8888",
}
ALL_SECRETS = [*FILE_SECRETS.values(), *ENV_SECRETS.values()]

MINIMAL = """
[tiktok]
app_key = "app-key"
app_secret = "file-app-secret-1111"
access_token = "file-access-token-2222"
refresh_token = "file-refresh-token-3333"

[[tiktok.shops]]
id = "1001"
cipher = "CIPHER-1001"
outlet = "Online Store"

[dealpos]
base_url = "https://shop.dealpos.net/"
client_id = "client-id"
client_secret = "file-client-secret-4444"
"""


class _Delete:
    """The marker `edited` reads as "remove this key"; a fixed repr keeps the test ids the same
    in every process (pytest-xdist's workers must collect identical ids)."""

    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()


def minimal() -> dict[str, Any]:
    """Return a fresh parsed copy of the minimal valid configuration."""
    return tomllib.loads(MINIMAL)


def edited(path: str, value: Any) -> dict[str, Any]:
    """Return the minimal config with the dotted `path` set to `value` (or deleted)."""
    data = minimal()
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    if value is DELETE:
        del node[last]
    else:
        node[last] = copy.deepcopy(value)
    return data


def second_shop(**fields: str) -> list[dict[str, str]]:
    """Return the minimal shop list plus one more shop."""
    shop = {"id": "1002", "cipher": "CIPHER-1002", "outlet": "Outlet 2"} | fields
    return [*minimal()["tiktok"]["shops"], shop]


def write(tmp_path: Path, text: str | bytes, name: str = "config.toml") -> Path:
    """Write a config file and return its path."""
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


# (dotted path to change, new value, key named in the message, words in the message)
BAD: list[tuple[str, Any, str, str]] = [
    ("tiktok.app_key", DELETE, "tiktok.app_key", "missing"),
    ("tiktok.app_key", "  ", "tiktok.app_key", "must not be empty"),
    ("tiktok.shops.0.cipher", DELETE, "tiktok.shops[0].cipher", "missing"),
    ("tiktok.shops.0.outlet", DELETE, "tiktok.shops[0].outlet", "missing"),
    ("tiktok.shops", DELETE, "tiktok.shops", "missing; add at least one [[tiktok.shops]]"),
    ("tiktok.shops", [], "tiktok.shops", "at least one [[tiktok.shops]] table is required"),
    ("tiktok.shops", "1001", "tiktok.shops", "expected an array of tables"),
    ("tiktok.shops", second_shop(id="1001"), "tiktok.shops[1].id", "duplicate shop id '1001'"),
    ("tiktok.shops.0.id", 1001, "tiktok.shops[0].id", "expected a string, got an integer (put"),
    ("tiktok.app_secret", DELETE, "tiktok.app_secret", "missing; set env TIKTOK_APP_SECRET"),
    ("tiktok.app_secret", "...", "tiktok.app_secret", "placeholder '...' does not count"),
    # Example values are errors for every key, not just secrets.
    ("tiktok.app_key", "...", "tiktok.app_key", "still the example's placeholder '...'"),
    ("tiktok.shops.0.outlet", "...", "tiktok.shops[0].outlet", "example's placeholder"),
    ("tiktok.shops.0.id", "7000714532876273420", "tiktok.shops[0].id", "example's placeholder"),
    (
        "tiktok.shops.0.cipher",
        "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3",
        "tiktok.shops[0].cipher",
        "example's placeholder",
    ),
    ("tiktok.service_id", "7310000000000000000", "tiktok.service_id", "example's placeholder"),
    ("tiktok.service_id", "", "tiktok.service_id", "must not be empty"),
    ("dealpos.base_url", "https://mybrand.dealpos.net", "dealpos.base_url", "example's host"),
    ("dealpos.client_id", "...", "dealpos.client_id", "example's placeholder"),
    ("dealpos.payment_method", "", "dealpos.payment_method", "must not be empty"),
    ("dealpos.default_customer", "...", "dealpos.default_customer", "example's placeholder"),
    ("state.path", "...", "state.path", "example's placeholder"),
    ("sku_map", {"red": "..."}, 'sku_map."red"', "example's placeholder"),
    ("dealpos.client_secret", "", "dealpos.client_secret", "$CREDENTIALS_DIRECTORY/dealpos_client"),
    ("tiktok.refresh_token", 12345678, "tiktok.refresh_token", "expected a string, got an integer"),
    ("dealpos", DELETE, "dealpos.base_url", "missing"),
    ("dealpos.client_id", DELETE, "dealpos.client_id", "missing"),
    (
        "sync.overlap_secnds",
        60,
        "sync.overlap_secnds",
        "unknown key; did you mean 'overlap_seconds'?",
    ),
    ("stat", {}, "stat", "unknown key; did you mean 'state'?"),
    ("verify.daily", "yes", "verify.daily", "expected a boolean (true or false), got a string"),
    ("verify.daily", 1, "verify.daily", "expected a boolean (true or false), got an integer"),
    ("verify.dayly", True, "verify.dayly", "unknown key; did you mean 'daily'?"),
    ("tiktok.shops.0.outlett", "x", "tiktok.shops[0].outlett", "did you mean 'outlet'?"),
    ("dealpos.zzz", 1, "dealpos.zzz", "unknown key; known keys: base_url, client_id"),
    (
        "schedule.interval_seconds",
        True,
        "schedule.interval_seconds",
        "expected an integer, got a b",
    ),
    (
        "schedule.interval_seconds",
        "60",
        "schedule.interval_seconds",
        "got a string (remove the quo",
    ),
    (
        "schedule.interval_seconds",
        60.0,
        "schedule.interval_seconds",
        "expected an integer, got a n",
    ),
    ("schedule.interval_seconds", 0, "schedule.interval_seconds", "between 1 and 86400, got 0"),
    ("schedule.jitter_seconds", 60, "schedule.jitter_seconds", "below schedule.interval_seconds"),
    ("sync.lag_seconds", -1, "sync.lag_seconds", "must be between 0 and 86400, got -1"),
    ("sync.overlap_seconds", 0, "sync.overlap_seconds", "must be between 1 and"),
    ("sync", 5, "sync", "expected a table, got an integer"),
    ("sync.settle_completed", "sometimes", "sync.settle_completed", "one of 'download', 'always'"),
    ("sync.timezone", "Asia/Jakrta", "sync.timezone", "unknown time zone 'Asia/Jakrta'"),
    ("sync.timezone", "../etc/passwd", "sync.timezone", "unknown time zone"),
    ("dealpos.rate_limit", 0, "dealpos.rate_limit", "must be between 1 and 10000000, got 0"),
    ("dealpos.rate_limit", False, "dealpos.rate_limit", "expected an integer, got a boolean"),
    ("dealpos.rate_window_seconds", 0, "dealpos.rate_window_seconds", "between 0.01 and 86400"),
    ("tiktok.timeout_seconds", float("nan"), "tiktok.timeout_seconds", "a finite number"),
    ("dealpos.timeout_seconds", "30", "dealpos.timeout_seconds", "expected a number, got a string"),
    ("dealpos.base_url", "ftp://mybrand", "dealpos.base_url", "http:// or https:// URL"),
    ("tiktok.auth_url", "https://", "tiktok.auth_url", "http:// or https:// URL with a host"),
    ("tiktok.base_url", "open-api.tiktokglobalshop.com", "tiktok.base_url", "http:// or https://"),
    ("metrics.listen", "9108", "metrics.listen", "must be host:port"),
    ("metrics.listen", "localhost:99999", "metrics.listen", "must be host:port"),
    ("metrics.listen", "::1:9108", "metrics.listen", "must be host:port"),
    ("metrics.textfile", 3, "metrics.textfile", "expected a string"),
    ("webhook.listen", "8080", "webhook.listen", "must be host:port"),
    ("webhook.path", "tiktok/webhook", "webhook.path", "must be a URL path starting with '/'"),
    ("webhook.path", "/hook?x=1", "webhook.path", "must be a URL path"),
    ("webhook.path", "", "webhook.path", "must not be empty"),
    ("webhook.lisen", "0.0.0.0:8080", "webhook.lisen", "did you mean 'listen'?"),
    ("web.listen", "8081", "web.listen", "must be host:port"),
    ("web.admin_token", "short", "web.admin_token", "at least 16 characters"),
    ("web.admin_token", 1234, "web.admin_token", "expected a string, got an integer"),
    ("web.lisen", "127.0.0.1:8081", "web.lisen", "did you mean 'listen'?"),
    ("sku_map", {"red": 5}, 'sku_map."red"', "expected a string, got an integer"),
    ("sku_map", ["red"], "sku_map", "expected a table, got an array"),
]


@pytest.mark.parametrize(
    ("path", "value", "key", "words"), BAD, ids=[f"{c[0]}={c[1]!r}" for c in BAD]
)
def test_bad_config_names_key_and_problem(path: str, value: Any, key: str, words: str) -> None:
    """Each bad config raises one ConfigError naming the dotted key and what is wrong."""
    with pytest.raises(ConfigError) as caught:
        parse_config(edited(path, value), env={})
    assert caught.value.key == key
    assert words in caught.value.problem
    assert str(caught.value).startswith(f"config: {key}: ")


@pytest.mark.parametrize(
    ("path", "value", "key", "words"), BAD, ids=[f"{c[0]}={c[1]!r}" for c in BAD]
)
def test_no_secret_in_any_config_error(path: str, value: Any, key: str, words: str) -> None:
    """No ConfigError text ever contains a secret, whichever source supplied it."""
    env = {} if key in FILE_SECRETS else ENV_SECRETS  # env would fill the secret being tested
    with pytest.raises(ConfigError) as caught:
        parse_config(edited(path, value), env=env)
    for text in (str(caught.value), repr(caught.value), caught.value.problem):
        assert not any(secret in text for secret in ALL_SECRETS)
    assert "12345678" not in str(caught.value)


def test_minimal_config_gets_interface_defaults() -> None:
    """Keys left out take the interface's defaults."""
    config = parse_config(minimal(), env={})
    assert config.state == StateConfig(Path("state/sync.db"))
    assert config.schedule == ScheduleConfig(interval_seconds=60, jitter_seconds=5)
    assert config.sync == SyncConfig(7200, 120, 86400, 86400, "Asia/Jakarta", "download")
    assert config.sync.tz.key == "Asia/Jakarta"
    assert config.tiktok.base_url == "https://open-api.tiktokglobalshop.com"
    assert config.tiktok.auth_url == "https://auth.tiktok-shops.com"
    assert config.tiktok.timeout_seconds == 30.0
    shop = config.tiktok.shops[0]
    assert (shop.id, shop.tag, shop.invoice_prefix) == ("1001", "TikTok", "TT-")
    assert config.dealpos == DealposConfig(
        base_url="https://shop.dealpos.net",  # the trailing slash is dropped
        client_id="client-id",
        client_secret=Secret("file-client-secret-4444"),
    )
    assert config.dealpos.rate_limit == 50 and config.dealpos.rate_window_seconds == 180.0
    assert config.metrics == MetricsConfig(listen=None, textfile=None)
    assert config.verify.daily is False
    assert dict(config.sku_map) == {}


def test_values_given_override_defaults() -> None:
    """Every key given in the file is used as given (converted to its type)."""
    data = minimal()
    data["sync"] = {"settle_completed": "always", "timezone": "UTC", "lag_seconds": 0}
    data["dealpos"] |= {"rate_limit": 10, "rate_window_seconds": 60, "shipping_variant": "SHIP"}
    data["metrics"] = {"listen": "[::1]:9108", "textfile": "/var/lib/node/sync.prom"}
    data["tiktok"]["shops"] = second_shop(tag="TikTok 2", invoice_prefix="")
    data["verify"] = {"daily": True}
    config = parse_config(data, env={})
    assert config.verify.daily is True
    assert (config.sync.settle_completed, config.sync.lag_seconds) == ("always", 0)
    assert config.dealpos.rate_window_seconds == 60.0
    assert config.dealpos.shipping_variant == "SHIP"
    assert config.metrics.listen_address == ("::1", 9108)
    assert config.metrics.textfile == Path("/var/lib/node/sync.prom")
    assert [s.invoice_prefix for s in config.tiktok.shops] == ["TT-", ""]
    assert config.shop("1002").tag == "TikTok 2"


def test_webhook_is_off_by_default_and_reads_listen_and_path() -> None:
    """Without [webhook] nothing listens; with it, the listen address and the path are kept."""
    assert parse_config(minimal(), env={}).webhook == WebhookConfig(None, "/tiktok/webhook")
    data = edited("webhook", {"listen": "0.0.0.0:8080", "path": "/hooks/tts-7f3a"})
    assert parse_config(data, env={}).webhook == WebhookConfig("0.0.0.0:8080", "/hooks/tts-7f3a")


def test_unknown_shop_id_is_a_config_error() -> None:
    """Config.shop names the configured ids when asked for an unknown one."""
    config = parse_config(minimal(), env={})
    with pytest.raises(ConfigError, match=r"no shop with id '9' \(configured: 1001\)"):
        config.shop("9")


def test_sku_map_is_read_only() -> None:
    """The SKU map is kept and cannot be modified afterwards."""
    config = parse_config(edited("sku_map", {"red_iphone_256": "IP-256-RED"}), env={})
    assert config.sku_map["red_iphone_256"] == "IP-256-RED"
    with pytest.raises(TypeError):
        config.sku_map["x"] = "y"  # type: ignore[index]


def test_config_is_frozen() -> None:
    """Settings cannot be changed after validation."""
    config = parse_config(minimal(), env={})
    with pytest.raises(AttributeError):
        config.sync.lag_seconds = 1  # type: ignore[misc]


def test_env_beats_credentials_dir_beats_file(tmp_path: Path) -> None:
    """Secrets come from env first, then $CREDENTIALS_DIRECTORY, then the file."""
    (tmp_path / "tiktok_app_secret").write_text("cred-app-secret-9999\n")
    (tmp_path / "tiktok_access_token").write_text("cred-access-token-0000\n")
    env = {"CREDENTIALS_DIRECTORY": str(tmp_path), "TIKTOK_APP_SECRET": "env-app-secret-5555"}
    tiktok = parse_config(minimal(), env=env).tiktok
    assert tiktok.app_secret.reveal() == "env-app-secret-5555"
    assert tiktok.access_token.reveal() == "cred-access-token-0000"  # trailing newline stripped
    assert tiktok.refresh_token.reveal() == "file-refresh-token-3333"


def test_secrets_from_credentials_dir_only(tmp_path: Path) -> None:
    """With secrets only as systemd credential files, the config loads."""
    for name in ("tiktok_app_secret", "tiktok_access_token", "tiktok_refresh_token"):
        (tmp_path / name).write_text(f"{name}-value\n")
    (tmp_path / "dealpos_client_secret").write_text("dealpos-value")
    data = minimal()
    for section, key in (part.split(".") for part in FILE_SECRETS):
        del data[section][key]
    config = parse_config(data, env={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert config.tiktok.refresh_token.reveal() == "tiktok_refresh_token-value"
    assert config.dealpos.client_secret.reveal() == "dealpos-value"


def test_empty_or_placeholder_sources_fall_through(tmp_path: Path) -> None:
    """An empty env variable or a "..." credential file counts as not given."""
    (tmp_path / "tiktok_app_secret").write_text("...\n")
    env = {"CREDENTIALS_DIRECTORY": str(tmp_path), "TIKTOK_APP_SECRET": ""}
    config = parse_config(minimal(), env=env)
    assert config.tiktok.app_secret.reveal() == "file-app-secret-1111"


def test_unreadable_credential_names_key_not_value(tmp_path: Path) -> None:
    """A credential that cannot be read is a ConfigError naming the key."""
    (tmp_path / "dealpos_client_secret").mkdir()
    with pytest.raises(ConfigError) as caught:
        parse_config(minimal(), env={"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert caught.value.key == "dealpos.client_secret"
    assert "cannot read credential file" in caught.value.problem


def test_secrets_never_in_repr() -> None:
    """Neither Secret nor Config shows a secret in repr or str."""
    config = parse_config(minimal(), env=ENV_SECRETS)
    assert repr(Secret("abc")) == str(Secret("abc")) == "Secret('***')"
    for text in (repr(config), str(config), repr(config.tiktok), f"{config.dealpos}"):
        assert not any(secret in text for secret in ALL_SECRETS)
    assert {s.reveal() for s in config.secrets()} == set(ENV_SECRETS.values())


def test_secret_compares_by_value() -> None:
    """Secrets with equal values are equal and hash alike; others are not."""
    assert Secret("a") == Secret("a") and hash(Secret("a")) == hash(Secret("a"))
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"


def test_example_config_loads_once_its_example_values_are_replaced() -> None:
    """The top-level example loads with the secret env vars and its example values replaced."""
    text = (REPO / "config.toml").read_text()
    for example, own in [
        ('app_key = "..."', 'app_key = "my-app"'),
        ('client_id = "..."', 'client_id = "my-client"'),
        ("7310000000000000000", "7310000000000000042"),
        ("7000714532876273420", "7000714532876273421"),
        ("GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3", "GCP_mine"),
        ("mybrand.dealpos.net", "shop.dealpos.net"),
    ]:
        assert example in text
        text = text.replace(example, own)
    config = parse_config(tomllib.loads(text), env=ENV_SECRETS, source=REPO / "config.toml")
    assert config.state.path == REPO / "state" / "sync.db"
    assert config.tiktok.shops[0].outlet == "Online Store"
    assert config.tiktok.service_id == "7310000000000000042"
    assert config.dealpos.client_secret == Secret("env-client-secret-8888")


def test_example_config_as_shipped_names_its_first_example_value() -> None:
    """The example as shipped is refused at its first example value, named."""
    with pytest.raises(ConfigError) as caught:
        load_config(REPO / "config.toml", env=ENV_SECRETS)
    assert caught.value.key == "tiktok.app_key"
    assert "placeholder" in caught.value.problem


def test_token_pair_is_optional() -> None:
    """No token pair in the config (connect stores one in the state DB): both are empty."""
    data = minimal()
    del data["tiktok"]["access_token"], data["tiktok"]["refresh_token"]
    config = parse_config(data, env={})
    assert config.tiktok.access_token.reveal() == config.tiktok.refresh_token.reveal() == ""


def test_example_config_mentions_every_key() -> None:
    """Every key the loader knows appears in the example (commented out or not)."""
    text = (REPO / "config.toml").read_text()
    sections: dict[str, type[Any]] = {
        "[state]": StateConfig,
        "[schedule]": ScheduleConfig,
        "[sync]": SyncConfig,
        "[tiktok]": TikTokConfig,
        "[[tiktok.shops]]": ShopConfig,
        "[dealpos]": DealposConfig,
        "[metrics]": MetricsConfig,
        "[webhook]": WebhookConfig,
        "[web]": WebConfig,
    }
    for header, cls in sections.items():
        assert header in text
        for field in dataclasses.fields(cls):
            if field.name != "shops":
                assert f"{field.name} = " in text, f"{header} {field.name}"
    assert "[sku_map]" in text


def test_relative_paths_anchor_at_config_folder(tmp_path: Path) -> None:
    """state.path and metrics.textfile are relative to the config file's folder."""
    text = MINIMAL + '\n[state]\npath = "db/x.db"\n[metrics]\ntextfile = "m/sync.prom"\n'
    config = load_config(write(tmp_path, text), env={})
    assert config.state.path == tmp_path / "db" / "x.db"
    assert config.metrics.textfile == tmp_path / "m" / "sync.prom"


def test_invalid_toml_reports_line_and_column(tmp_path: Path) -> None:
    """A TOML syntax error names the file and where the error is."""
    path = write(tmp_path, "[sync]\nlag_seconds = 120 oops\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert caught.value.key == str(path)
    assert "invalid TOML" in caught.value.problem
    assert "line 2, column 19" in caught.value.problem


def test_invalid_toml_at_end_still_has_a_line(tmp_path: Path) -> None:
    """An unterminated string at the end of the file still reports a line."""
    path = write(tmp_path, '[tiktok]\napp_key = "abc')
    with pytest.raises(ConfigError, match=r"Unterminated string \(at end of document, line 2\)"):
        load_config(path, env={})


def test_missing_file_is_reported(tmp_path: Path) -> None:
    """A config path that does not exist gives a clear ConfigError."""
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml", env={})


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    """A file that is not UTF-8 gives a ConfigError, not a traceback."""
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(write(tmp_path, b"a = '\xff'\n"), env={})


def test_load_config_reads_os_environ_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an explicit env, secrets come from os.environ."""
    monkeypatch.setenv("DEALPOS_CLIENT_SECRET", "os-env-secret-1234")
    config = load_config(write(tmp_path, MINIMAL))
    assert config.dealpos.client_secret.reveal() == "os-env-secret-1234"


@pytest.mark.parametrize(
    ("explicit", "env", "expected"),
    [
        ("a.toml", {"SYNC_JOB_CONFIG": "b.toml"}, "a.toml"),
        (None, {"SYNC_JOB_CONFIG": "b.toml"}, "b.toml"),
        (None, {"SYNC_JOB_CONFIG": ""}, "config.toml"),
        (None, {}, "config.toml"),
    ],
)
def test_find_config_path_precedence(
    explicit: str | None, env: dict[str, str], expected: str
) -> None:
    """--config wins over $SYNC_JOB_CONFIG, which wins over ./config.toml."""
    assert find_config_path(explicit, env) == Path(expected)


def test_parse_config_returns_config_type() -> None:
    """parse_config without a source leaves relative paths as written."""
    config = parse_config(minimal(), env={})
    assert isinstance(config, Config)
    assert config.source is None
    assert not config.state.path.is_absolute()


@pytest.mark.parametrize(
    ("interval", "jitter"), [(1, 0.1), (3, 0.3), (5, 0.5), (30, 3.0), (60, 5.0)]
)
def test_default_jitter_follows_a_short_interval(interval: int, jitter: float) -> None:
    """No jitter written: the smaller of 5 and a tenth of the interval, even for 1-5 s intervals."""
    config = parse_config(edited("schedule.interval_seconds", interval), env={})
    assert config.schedule.jitter == pytest.approx(jitter)
    assert config.schedule.jitter < config.schedule.interval_seconds


def test_only_an_explicit_jitter_at_the_interval_is_an_error() -> None:
    """A jitter the user wrote at or above the interval is still refused, naming the key."""
    data = edited("schedule.interval_seconds", 3)
    data["schedule"]["jitter_seconds"] = 3
    with pytest.raises(ConfigError) as caught:
        parse_config(data, env={})
    assert caught.value.key == "schedule.jitter_seconds"
    assert "below schedule.interval_seconds (3)" in caught.value.problem


def _numeric_keys() -> list[str]:
    """Every dotted key whose converter takes a number (probed with 1)."""
    from sync_job.service.config import _SECTIONS

    keys = []
    for section, (_cls, schema) in _SECTIONS.items():
        for name, key in schema.items():
            try:
                key.convert(f"{section}.{name}", 1)
            except ConfigError as exc:
                if "expected" in exc.problem:
                    continue  # not a number key (a string, table, ...)
            keys.append(f"{section}.{name}")
    return keys


def test_every_numeric_key_is_probed() -> None:
    """The probe finds the numeric keys (so the bound test below covers each one)."""
    assert {"tiktok.timeout_seconds", "dealpos.rate_limit", "schedule.interval_seconds"} <= set(
        _numeric_keys()
    )


@pytest.mark.parametrize("key", _numeric_keys())
@pytest.mark.parametrize("absurd", [1e300, 10**300, -(10**300)], ids=["1e300", "10^300", "-10^300"])
def test_every_numeric_key_is_bounded(key: str, absurd: float) -> None:
    """An absurd number in any numeric key is refused at load, naming the key and its range."""
    with pytest.raises(ConfigError) as caught:
        parse_config(edited(key, absurd), env={})
    assert caught.value.key == key
    assert (
        "must be between" in caught.value.problem or "expected an integer" in caught.value.problem
    )


def test_timeout_of_1e300_exits_2_naming_the_range(tmp_path: Path) -> None:
    """The reported case: `timeout_seconds = 1e300` stops at load with the key and the range."""
    path = write(tmp_path, MINIMAL.replace("[tiktok]\n", "[tiktok]\ntimeout_seconds = 1e300\n"))
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert str(caught.value) == (
        "config: tiktok.timeout_seconds: must be between 0.1 and 600, got 1e+300"
    )


def test_payment_method_and_settle_time_take_one_route_each(tmp_path: Path) -> None:
    """`dealpos.payment_method` reaches the pusher only through the shop's invoice settings, and
    the create settle time only through the config (twice the DealPOS timeout)."""
    from sync_job.service.app import App, shop_context

    data = edited("dealpos.payment_method", "QRIS TikTok")
    data["dealpos"]["timeout_seconds"] = 7
    data["state"] = {"path": str(tmp_path / "sync.db")}
    config = parse_config(data, env={})
    shop = shop_context(config, config.tiktok.shops[0], "realtime")
    assert shop.settings.payment_method == "QRIS TikTok"
    app = App.open(config)
    try:
        assert app.deps().create_settle_seconds == 14.0
        assert not hasattr(app.deps(), "payment_method")
    finally:
        app.close()


@pytest.mark.parametrize("padding", ["\n", "\r\n", " ", "\t", "  \n\n"])
def test_secrets_lose_surrounding_whitespace_from_every_source(
    tmp_path: Path, padding: str
) -> None:
    """A trailing newline (env files, Kubernetes secrets) or spaces around a secret are dropped,
    whether it came from env, a credential file or config.toml."""
    (tmp_path / "tiktok_access_token").write_text(f"{padding}cred-access-token-0000{padding}")
    data = edited("dealpos.client_secret", f"{padding}file-client-secret-4444{padding}")
    env = {
        "CREDENTIALS_DIRECTORY": str(tmp_path),
        "TIKTOK_APP_SECRET": f"env-app-secret-5555{padding}",
    }
    config = parse_config(data, env=env)
    assert config.tiktok.app_secret.reveal() == "env-app-secret-5555"
    assert config.tiktok.access_token.reveal() == "cred-access-token-0000"
    assert config.dealpos.client_secret.reveal() == "file-client-secret-4444"


@pytest.mark.parametrize(
    "inner", ["tok en", "tok\nen", "tok\ten", "tok\x00en", "tok\x1ben", "tok\u200ben", "tok\xa0en"]
)
def test_secret_with_inner_whitespace_or_control_is_refused(tmp_path: Path, inner: str) -> None:
    """Whitespace or a control character inside a secret is a ConfigError naming the key (and
    never the value), from env, a credential file or the config file alike."""
    (tmp_path / "tiktok_refresh_token").write_text(f"refresh-{inner}-QX7\n")
    sources: list[tuple[dict[str, Any], dict[str, str], str]] = [
        (minimal(), {"TIKTOK_ACCESS_TOKEN": f"access-{inner}-QX7"}, "tiktok.access_token"),
        (minimal(), {"CREDENTIALS_DIRECTORY": str(tmp_path)}, "tiktok.refresh_token"),
        (edited("tiktok.app_secret", f"app-{inner}-QX7"), {}, "tiktok.app_secret"),
    ]
    for data, env, key in sources:
        with pytest.raises(ConfigError) as caught:
            parse_config(data, env=env)
        assert caught.value.key == key
        assert "whitespace or a control character" in caught.value.problem
        assert "QX7" not in str(caught.value) and inner not in str(caught.value)


def test_web_is_off_and_read_only_by_default() -> None:
    """Without [web] the page is not served; without a token it has no buttons."""
    config = parse_config(minimal(), env=ENV_SECRETS)
    assert config.web == WebConfig(listen=None, admin_token=None)
    assert len(config.secrets()) == 4


def test_web_admin_token_from_env_is_a_registered_secret() -> None:
    """SYNC_JOB_WEB_TOKEN beats the file's value, is a Secret, and joins config.secrets()."""
    data = edited("web", {"listen": "127.0.0.1:8081", "admin_token": "file-token-0123456789"})
    config = parse_config(data, env={**ENV_SECRETS, "SYNC_JOB_WEB_TOKEN": "env-token-0123456789"})
    assert config.web.listen == "127.0.0.1:8081"
    assert config.web.admin_token == Secret("env-token-0123456789")
    assert "env-token" not in repr(config)
    assert Secret("env-token-0123456789") in config.secrets()


def test_web_admin_token_placeholder_means_read_only() -> None:
    """The example's "..." is no token: the page stays read-only instead of failing."""
    config = parse_config(edited("web", {"admin_token": "..."}), env=ENV_SECRETS)
    assert config.web.admin_token is None


def test_without_secrets_an_unset_admin_token_stays_unset() -> None:
    """Commands that read only the state DB leave API secrets empty, but never invent a token."""
    data = minimal()
    del data["tiktok"]["app_secret"]
    config = parse_config(data, env={}, need_secrets=False)
    assert config.web.admin_token is None
