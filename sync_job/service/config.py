"""Read `config.toml` (plus secrets from the environment) into frozen, fully validated settings.

Every key is checked here, before any network call, so a typo costs one clear message naming the
key instead of a half-finished run. The key names are a public contract: keys are added, never
renamed.

Every default lives on its dataclass below (the interface's defaults, plus these for keys it
leaves open):
- `schedule.jitter_seconds`: the smaller of 5 and a tenth of the interval (spreads daemon cycles a
  little); only a jitter written in the file can be at or above the interval, and that is an error.
- `tiktok.timeout_seconds` and `dealpos.timeout_seconds` = 30: per HTTP request (connect and read).
- `dealpos.shipping_variant`, `metrics.listen`, `metrics.textfile`: unset (feature off).

Secrets come from, in this order: the environment (`TIKTOK_APP_SECRET`, ...), then a file
`$CREDENTIALS_DIRECTORY/<name>` (systemd `LoadCredential=`), then the value in config.toml.
An empty value or the placeholder `"..."` counts as not given at that source. Surrounding
whitespace is stripped from a secret wherever it came from; whitespace or a control character
inside one is an error.

The TikTok token pair is optional here: `sync-job connect` stores one in the state database.
Any other key still holding an example value (`"..."`, an empty string, the example's DealPOS host
or shop id/cipher/service id) is an error naming the key: it would otherwise fail later, on the
network, far from its cause.
"""

from __future__ import annotations

import difflib
import hmac
import math
import os
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync_job.domain.errors import ConfigError
from sync_job.net.retrying import RetryConfig
from sync_job.state.retention import RetentionPolicy

__all__ = [
    "Config",
    "ConnectConfig",
    "DealposConfig",
    "MetricsConfig",
    "RetryConfig",
    "ScheduleConfig",
    "Secret",
    "ShopConfig",
    "StateConfig",
    "SyncConfig",
    "TikTokConfig",
    "VerifyConfig",
    "WebConfig",
    "WebhookConfig",
    "find_config_path",
    "load_config",
    "load_connect_config",
    "parse_config",
]

PLACEHOLDER: Final = "..."
# Values of the shipped example config that are never right for a real shop.
EXAMPLE_VALUES: Final = frozenset(
    {
        "7000714532876273420",  # the example shop id
        "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3",  # the example shop cipher
        "7310000000000000000",  # the example service id
    }
)
EXAMPLE_HOST: Final = "mybrand.dealpos.net"
AUTHORIZE_URL: Final = "https://services.tiktokshop.com/open/authorize"
CONFIG_ENV: Final = "SYNC_JOB_CONFIG"
DEFAULT_CONFIG: Final = "config.toml"
MIN_ADMIN_TOKEN_LENGTH: Final = 16


class Secret:
    """A secret string whose repr and str never show the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value; call only where it is sent, never where it is shown."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        # Constant-time, so comparing secrets cannot leak them through timing.
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class StateConfig:
    """Where the SQLite state lives (relative paths are anchored at the config file's folder)."""

    path: Path = Path("state/sync.db")


def default_jitter(interval_seconds: float) -> float:
    """The jitter nobody wrote: the smaller of 5 s and a tenth of the interval."""
    return min(5.0, interval_seconds / 10)


@dataclass(frozen=True)
class ScheduleConfig:
    """How often the daemon runs a cycle (`jitter_seconds` None: follow the interval)."""

    interval_seconds: int = 60
    jitter_seconds: float | None = None

    def __post_init__(self) -> None:
        """Fill in the interval-following default jitter."""
        if self.jitter_seconds is None:
            object.__setattr__(self, "jitter_seconds", default_jitter(self.interval_seconds))

    @property
    def jitter(self) -> float:
        """The jitter in seconds (never None once constructed)."""
        return float(self.jitter_seconds or 0)


@dataclass(frozen=True)
class SyncConfig:
    """How TikTok is read: windows, overlap, lag and how completed orders are settled."""

    overlap_seconds: int = 7200
    lag_seconds: int = 120
    max_window_seconds: int = 86400
    initial_lookback_seconds: int = 86400
    timezone: str = "Asia/Jakarta"
    settle_completed: Literal["download", "always"] = "download"
    # Wall-clock budget of one `once` (and one daemon cycle): well under the once unit's
    # TimeoutStartSec (1 h), so a run stuck in Retry-After holds ends on its own, exit 0.
    run_budget_seconds: int = 1800

    @property
    def tz(self) -> ZoneInfo:
        """The zone in which invoice dates are calendar dates."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class ShopConfig:
    """One TikTok shop and where its invoices go in DealPOS."""

    id: str
    cipher: str
    outlet: str
    tag: str = "TikTok"
    invoice_prefix: str = "TT-"


@dataclass(frozen=True, kw_only=True)
class TikTokConfig:
    """TikTok Shop Open API credentials, endpoints and shops."""

    base_url: str = "https://open-api.tiktokglobalshop.com"
    auth_url: str = "https://auth.tiktok-shops.com"
    app_key: str
    app_secret: Secret
    access_token: Secret = field(default_factory=lambda: Secret(""))  # "": none configured
    refresh_token: Secret = field(default_factory=lambda: Secret(""))
    shops: tuple[ShopConfig, ...] = ()
    timeout_seconds: float = 30.0
    service_id: str | None = None  # for `sync-job connect`'s authorization link
    authorize_url: str = AUTHORIZE_URL


@dataclass(frozen=True, kw_only=True)
class DealposConfig:
    """DealPOS API credentials, quota and invoice conventions."""

    base_url: str
    client_id: str
    client_secret: Secret
    rate_limit: int = 50
    rate_window_seconds: float = 180.0
    payment_method: str = "TikTok Shop"
    default_customer: str = "TikTok Customer"
    shipping_variant: str | None = None
    timeout_seconds: float = 30.0

    @property
    def create_settle_seconds(self) -> float:
        """How long an unanswered create may still land: it answers or times out well within
        twice the timeout, so an invoice still absent after that was never created."""
        return 2 * self.timeout_seconds


@dataclass(frozen=True)
class MetricsConfig:
    """Where Prometheus metrics go: an HTTP listener, a textfile, both or neither."""

    listen: str | None = None
    textfile: Path | None = None

    @property
    def listen_address(self) -> tuple[str, int] | None:
        """The listener as (host, port), IPv6 brackets removed; None when not listening."""
        return None if self.listen is None else _split_host_port(self.listen)


@dataclass(frozen=True)
class WebhookConfig:
    """The receiver `sync-job run` serves for TikTok's pushes (off while `listen` is unset)."""

    listen: str | None = None
    path: str = "/tiktok/webhook"


@dataclass(frozen=True)
class WebConfig:
    """The operator page: where it listens (unset: off) and the token that unlocks its buttons."""

    listen: str | None = None
    admin_token: Secret | None = None  # without it the page is read-only


@dataclass(frozen=True)
class VerifyConfig:
    """The daemon's own reconciliation: a light verify of the previous day, once a day."""

    daily: bool = False


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    state: StateConfig
    schedule: ScheduleConfig
    sync: SyncConfig
    tiktok: TikTokConfig
    dealpos: DealposConfig
    metrics: MetricsConfig
    retry: RetryConfig = field(default_factory=RetryConfig)
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    webhook: WebhookConfig = field(default_factory=WebhookConfig)
    web: WebConfig = field(default_factory=WebConfig)
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    sku_map: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    source: Path | None = None

    def secrets(self) -> tuple[Secret, ...]:
        """Return every secret, e.g. to register them with the log redactor."""
        t = self.tiktok
        secrets = (t.app_secret, t.access_token, t.refresh_token, self.dealpos.client_secret)
        token = self.web.admin_token
        return secrets if token is None else (*secrets, token)

    def shop(self, shop_id: str) -> ShopConfig:
        """Return the shop with this id; raise ConfigError naming the known ids otherwise."""
        for shop in self.tiktok.shops:
            if shop.id == shop_id:
                return shop
        known = ", ".join(s.id for s in self.tiktok.shops)
        raise ConfigError("tiktok.shops", f"no shop with id {shop_id!r} (configured: {known})")


# --- converters: (dotted key, raw TOML value) -> typed value, or ConfigError ----------------------

Converter = Callable[[str, Any], Any]

_TYPE_NAMES: Final = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "a table",
}


def _type_name(value: object) -> str:
    """Name the TOML type of a value, for messages (never the value itself)."""
    return _TYPE_NAMES.get(type(value), "a date/time")


def _wrong_type(key: str, expected: str, value: object) -> ConfigError:
    """Build the error for a value of the wrong TOML type."""
    hint = ""
    if expected == "an integer" and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        hint = " (remove the quotes)"
    elif expected == "a string" and isinstance(value, int | float) and not isinstance(value, bool):
        hint = " (put it in quotes)"
    return ConfigError(key, f"expected {expected}, got {_type_name(value)}{hint}")


# Bounds for a numeric key nobody gave a range of its own: far past any sane setting, yet small
# enough that no later arithmetic (timedelta, sleep, expiry sums) can overflow.
INT_CAP: Final = 10**9
NUMBER_CAP: Final = 1e9


def _number_text(value: float) -> str:
    """Show a bound or value briefly: 600 rather than 600.0, 1e+300 rather than 300 digits."""
    if isinstance(value, int) and abs(value) < 10**15:
        return str(value)
    return f"{value:g}"


def _out_of_range(key: str, low: float, high: float, value: float) -> ConfigError:
    """Build the error for a number outside its range, naming the range."""
    return ConfigError(
        key,
        f"must be between {_number_text(low)} and {_number_text(high)}, got {_number_text(value)}",
    )


def _int_between(low: int, high: int) -> Converter:
    """Accept an integer (never a boolean, float or string) from `low` to `high`."""

    def convert(key: str, value: Any) -> int:
        # bool is a subclass of int in Python, but `interval_seconds = true` is a mistake.
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(key, "an integer", value)
        if not low <= value <= high:
            raise _out_of_range(key, low, high, value)
        return value

    return convert


def _int_at_least(minimum: int) -> Converter:
    """Accept an integer of at least `minimum` (and at most INT_CAP)."""
    return _int_between(minimum, INT_CAP)


def _number_between(low: float, high: float) -> Converter:
    """Accept a finite number (integer or float) from `low` to `high`."""

    def convert(key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong_type(key, "a number", value)
        if not math.isfinite(value):
            raise ConfigError(key, f"must be a finite number, got {value}")
        if not low <= value <= high:
            raise _out_of_range(key, low, high, value)
        return float(value)

    return convert


def _positive_number(key: str, value: Any) -> float:
    """Accept a finite number above zero (and at most NUMBER_CAP)."""
    number: float = _number_between(0, NUMBER_CAP)(key, value)
    if number <= 0:
        raise ConfigError(key, f"must be a number above 0, got {_number_text(number)}")
    return number


def _bool(key: str, value: Any) -> bool:
    """Accept a TOML boolean (true / false), nothing else."""
    if not isinstance(value, bool):
        raise _wrong_type(key, "a boolean (true or false)", value)
    return value


def _string(key: str, value: Any) -> str:
    """Accept any string, even an empty one."""
    if not isinstance(value, str):
        raise _wrong_type(key, "a string", value)
    return value


def _text(key: str, value: Any) -> str:
    """Accept a string with something other than whitespace in it, and not an example value."""
    text = _string(key, value).strip()
    if not text:
        raise ConfigError(key, "must not be empty")
    if text == PLACEHOLDER or text in EXAMPLE_VALUES:
        raise ConfigError(key, f"still the example's placeholder {text!r}: put your own value here")
    return str(value)


def _url(key: str, value: Any) -> str:
    """Accept an http(s) URL with a host; drop a trailing slash so clients can append paths."""
    text = _text(key, value)
    try:
        parts = urlsplit(text)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        ok = False
    if not ok:
        # The value is not echoed: URLs can carry user:password.
        raise ConfigError(key, "must be an http:// or https:// URL with a host")
    if parts.hostname == EXAMPLE_HOST:
        raise ConfigError(key, f"still the example's host {EXAMPLE_HOST}: put your own here")
    return text.rstrip("/")


def _choice(*options: str) -> Converter:
    """Accept exactly one of `options`."""

    def convert(key: str, value: Any) -> str:
        if _string(key, value) not in options:
            allowed = ", ".join(repr(o) for o in options)
            raise ConfigError(key, f"must be one of {allowed}, got {value!r}")
        return str(value)

    return convert


def _timezone(key: str, value: Any) -> str:
    """Accept an IANA time zone name such as "Asia/Jakarta"."""
    name = _text(key, value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            key, f"unknown time zone {name!r} (use an IANA name such as 'Asia/Jakarta')"
        ) from None
    return name


def _split_host_port(text: str) -> tuple[str, int]:
    """Split "host:port" or "[v6]:port"; raise ValueError when it is not that shape."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or (":" in host and not text.startswith("[")):
        raise ValueError(text)
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(text)
    return host, int(port)


def _host_port(key: str, value: Any) -> str:
    """Accept "host:port" (IPv6 in brackets), port 1-65535."""
    text = _text(key, value)
    try:
        _split_host_port(text)
    except ValueError:
        raise ConfigError(
            key, f"must be host:port such as '127.0.0.1:9108', got {text!r}"
        ) from None
    return text


def _url_path(key: str, value: Any) -> str:
    """Accept an absolute URL path such as "/tiktok/webhook" (no query, no spaces)."""
    text = _text(key, value)
    if not text.startswith("/") or any(c in text for c in "?# \t") or "//" in text:
        raise ConfigError(key, f"must be a URL path starting with '/', got {text!r}")
    return text


def _path(key: str, value: Any) -> Path:
    """Accept a non-empty path; `~` is expanded, relative paths are resolved later."""
    return Path(_text(key, value)).expanduser()


def _secret(key: str, value: Any) -> Secret:
    """Wrap a secret string, surrounding whitespace removed (env files and Kubernetes secrets
    often end in a newline); one with whitespace or a control character inside is refused.
    Messages name the key, never the value."""
    text = _text(key, value).strip()
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text):
        raise ConfigError(
            key,
            "has whitespace or a control character inside it (surrounding whitespace is "
            "ignored); check the env variable, credential file or config value it came from",
        )
    return Secret(text)


def _admin_token(key: str, value: Any) -> Secret:
    """Accept a token long enough that guessing it is hopeless (it unlocks the page's buttons)."""
    token = _secret(key, value)
    if len(token.reveal().strip()) < MIN_ADMIN_TOKEN_LENGTH:
        raise ConfigError(key, f"must be at least {MIN_ADMIN_TOKEN_LENGTH} characters long")
    return token


# --- the schema: which keys exist, how each is read, which are required ---------------------------
# Defaults live on the dataclasses above (one source of truth); an absent optional key is left out
# of the constructor arguments so the dataclass default applies.

_ABSENT: Final[Any] = object()
HOUR: Final = 3600
DAY: Final = 24 * HOUR
# An HTTP timeout past 10 minutes would hold a run (and its shop's lease) for nothing.
TIMEOUT: Final = _number_between(0.1, 600)


@dataclass(frozen=True)
class _Key:
    """How one key is read: converter, whether it is required, where a secret may come from."""

    convert: Converter
    required: bool = False
    credential: str | None = None  # systemd credential name; the env variable is its upper case
    hint: str = ""  # added to the "missing" message


_REQUIRED_TEXT: Final = _Key(_text, required=True)


def _secret_key(credential: str, *, required: bool = True) -> _Key:
    """A secret that may also come from env or $CREDENTIALS_DIRECTORY."""
    return _Key(_secret, required=required, credential=credential)


def _shops(key: str, value: Any) -> tuple[ShopConfig, ...]:
    """Read the [[tiktok.shops]] array: at least one, ids unique."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConfigError(key, "expected an array of tables, written [[tiktok.shops]]")
    if not value:
        raise ConfigError(key, "at least one [[tiktok.shops]] table is required")
    shops = tuple(
        ShopConfig(**_read_table(f"{key}[{i}]", item, _SHOP, {})) for i, item in enumerate(value)
    )
    seen: set[str] = set()
    for i, shop in enumerate(shops):
        if shop.id in seen:
            raise ConfigError(f"{key}[{i}].id", f"duplicate shop id {shop.id!r}")
        seen.add(shop.id)
    return shops


_SHOP: Final[Mapping[str, _Key]] = {
    "id": _REQUIRED_TEXT,
    "cipher": _REQUIRED_TEXT,
    "outlet": _Key(
        _text, required=True, hint="the DealPOS outlet that receives this shop's invoices"
    ),
    "tag": _Key(_text),
    "invoice_prefix": _Key(_string),
}

_SECTIONS: Final[Mapping[str, tuple[type[Any], Mapping[str, _Key]]]] = {
    "state": (StateConfig, {"path": _Key(_path)}),
    "schedule": (
        ScheduleConfig,
        {
            "interval_seconds": _Key(_int_between(1, DAY)),
            "jitter_seconds": _Key(_number_between(0, HOUR)),
        },
    ),
    "sync": (
        SyncConfig,
        {
            "overlap_seconds": _Key(_int_between(1, 30 * DAY)),
            "lag_seconds": _Key(_int_between(0, DAY)),
            "max_window_seconds": _Key(_int_between(1, 30 * DAY)),
            "initial_lookback_seconds": _Key(_int_between(1, 366 * DAY)),
            "timezone": _Key(_timezone),
            "settle_completed": _Key(_choice("download", "always")),
            "run_budget_seconds": _Key(_int_between(10, 7 * DAY)),
        },
    ),
    "tiktok": (
        TikTokConfig,
        {
            "base_url": _Key(_url),
            "auth_url": _Key(_url),
            "app_key": _REQUIRED_TEXT,
            "app_secret": _secret_key("tiktok_app_secret"),
            # Optional: `sync-job connect` stores a pair in the state database instead.
            "access_token": _secret_key("tiktok_access_token", required=False),
            "refresh_token": _secret_key("tiktok_refresh_token", required=False),
            "shops": _Key(
                _shops,
                required=True,
                hint="add at least one [[tiktok.shops]] table (`sync-job connect` prints them)",
            ),
            "timeout_seconds": _Key(TIMEOUT),
            "service_id": _Key(_text),
            "authorize_url": _Key(_url),
        },
    ),
    "dealpos": (
        DealposConfig,
        {
            "base_url": _Key(_url, required=True, hint="e.g. 'https://mybrand.dealpos.net'"),
            "client_id": _REQUIRED_TEXT,
            "client_secret": _secret_key("dealpos_client_secret"),
            "rate_limit": _Key(_int_between(1, 10_000_000)),
            "rate_window_seconds": _Key(_number_between(0.01, DAY)),
            "payment_method": _Key(_text),
            "default_customer": _Key(_text),
            "shipping_variant": _Key(_text),
            "timeout_seconds": _Key(TIMEOUT),
        },
    ),
    "metrics": (MetricsConfig, {"listen": _Key(_host_port), "textfile": _Key(_path)}),
    "retry": (
        RetryConfig,
        {
            "max_attempts": _Key(_int_between(1, 100)),
            "max_backoff_seconds": _Key(_number_between(0.01, HOUR)),
        },
    ),
    "verify": (VerifyConfig, {"daily": _Key(_bool)}),
    "webhook": (WebhookConfig, {"listen": _Key(_host_port), "path": _Key(_url_path)}),
    "web": (
        WebConfig,
        {
            "listen": _Key(_host_port),
            # Optional secret: env SYNC_JOB_WEB_TOKEN or $CREDENTIALS_DIRECTORY/sync_job_web_token.
            "admin_token": _Key(_admin_token, credential="sync_job_web_token"),
        },
    ),
    "retention": (
        RetentionPolicy,
        {"runs_days": _Key(_int_between(1, 3650)), "raw_days": _Key(_int_between(1, 3650))},
    ),
}

_TOP_LEVEL: Final = (*_SECTIONS, "sku_map")


# --- reading --------------------------------------------------------------------------------------


def _join(prefix: str, name: str) -> str:
    """Dotted key of `name` inside `prefix` ("" at the top level)."""
    return f"{prefix}.{name}" if prefix else name


def _reject_unknown(where: str, table: Mapping[str, Any], known: tuple[str, ...]) -> None:
    """Raise for the first key not in `known`, suggesting the closest known one."""
    for name in table:
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
        raise ConfigError(_join(where, name), f"unknown key; {hint}")


def _as_table(key: str, value: Any) -> Mapping[str, Any]:
    """Check that a section is a TOML table."""
    if not isinstance(value, dict):
        raise _wrong_type(key, "a table", value)
    return value


def _read_table(
    where: str,
    raw: Any,
    schema: Mapping[str, _Key],
    env: Mapping[str, str],
    need_secrets: bool = True,
) -> dict[str, Any]:
    """Validate one table against its schema; return constructor arguments for keys given."""
    table = _as_table(where, raw)
    _reject_unknown(where, table, tuple(schema))
    read = {
        name: _read_key(_join(where, name), table.get(name, _ABSENT), key, env, need_secrets)
        for name, key in schema.items()
    }
    return {name: value for name, value in read.items() if value is not _ABSENT}


def _read_key(
    dotted: str, value: Any, key: _Key, env: Mapping[str, str], need_secrets: bool = True
) -> Any:
    """Resolve one key (secret sources first) and convert it; _ABSENT when optional and unset."""
    if key.credential is not None:
        value = _secret_source(dotted, key.credential, value, env)
        if value is _ABSENT and not need_secrets and key.required:
            return Secret("")  # a command that only reads the state DB never sends it
    if value is _ABSENT:
        if key.required:
            raise ConfigError(dotted, _missing(key))
        return _ABSENT
    return key.convert(dotted, value)


def _missing(key: _Key) -> str:
    """Explain a missing required key, naming every place it may come from."""
    if key.credential is None:
        return f"missing; {key.hint}" if key.hint else "missing"
    return (
        f"missing; set env {key.credential.upper()}, the file "
        f"$CREDENTIALS_DIRECTORY/{key.credential}, or this key "
        "(the placeholder '...' does not count)"
    )


def _given(value: Any) -> bool:
    """True unless the value is empty or the example's placeholder."""
    return not (isinstance(value, str) and value.strip() in ("", PLACEHOLDER))


def _secret_source(dotted: str, name: str, in_file: Any, env: Mapping[str, str]) -> Any:
    """Pick a secret from env, then $CREDENTIALS_DIRECTORY/<name>, then the file."""
    from_env = env.get(name.upper(), "")
    if _given(from_env):
        return from_env
    directory = env.get("CREDENTIALS_DIRECTORY", "")
    if directory:
        path = Path(directory) / name
        try:
            from_credential = path.read_text(encoding="utf-8").rstrip("\r\n")
        except FileNotFoundError:
            from_credential = ""
        except (OSError, UnicodeDecodeError) as exc:
            problem = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise ConfigError(dotted, f"cannot read credential file {path}: {problem}") from None
        if _given(from_credential):
            return from_credential
    return in_file if in_file is _ABSENT or _given(in_file) else _ABSENT


def _sku_map(raw: Any) -> Mapping[str, str]:
    """Read [sku_map]: TikTok seller SKU -> DealPOS variant code, both non-empty strings."""
    table = _as_table("sku_map", raw)
    mapping = {sku: _text(f'sku_map."{sku}"', code) for sku, code in table.items()}
    if "" in mapping:
        raise ConfigError("sku_map", "a TikTok SKU must not be empty")
    return MappingProxyType(mapping)


def _anchor(base: Path | None, path: Path) -> Path:
    """Anchor a relative path at the config file's folder (left alone without a file)."""
    return path if base is None or path.is_absolute() else base / path


def _anchor_paths(config: Config, base: Path | None) -> Config:
    """Anchor the state path and the metrics textfile at the config file's folder."""
    textfile = config.metrics.textfile
    return replace(
        config,
        state=replace(config.state, path=_anchor(base, config.state.path)),
        metrics=replace(
            config.metrics, textfile=None if textfile is None else _anchor(base, textfile)
        ),
    )


def _check_across(config: Config) -> None:
    """Checks that involve two keys."""
    schedule = config.schedule
    if schedule.jitter >= schedule.interval_seconds:
        raise ConfigError(
            "schedule.jitter_seconds",
            f"must be below schedule.interval_seconds ({schedule.interval_seconds}), "
            f"got {schedule.jitter_seconds}",
        )


def parse_config(
    data: Mapping[str, Any],
    env: Mapping[str, str],
    source: Path | None = None,
    *,
    need_secrets: bool = True,
) -> Config:
    """Validate parsed TOML plus secrets from `env` into a Config; raise ConfigError.

    `need_secrets=False` (commands that only use the state DB): a missing secret is left empty.
    """
    _reject_unknown("", data, _TOP_LEVEL)
    sections = {
        name: cls(**_read_table(name, data.get(name, {}), keys, env, need_secrets))
        for name, (cls, keys) in _SECTIONS.items()
    }
    config = Config(**sections, sku_map=_sku_map(data.get("sku_map", {})), source=source)
    _check_across(config)
    return _anchor_paths(config, None if source is None else source.parent)


def _toml_problem(exc: tomllib.TOMLDecodeError, text: str) -> str:
    """Describe a TOML syntax error with its line and column (tomllib omits it at the end)."""
    message = str(exc)
    if message.endswith("(at end of document)"):
        message = message[: -len(")")] + f", line {text.count(chr(10)) + 1})"
    return f"invalid TOML: {message}"


def _read_toml(path: Path) -> dict[str, Any]:
    """Read a config file's TOML; raise ConfigError naming the file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "file not found (use --config or $SYNC_JOB_CONFIG)") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), _toml_problem(exc, text)) from None


def load_config(
    path: Path, env: Mapping[str, str] | None = None, *, need_secrets: bool = True
) -> Config:
    """Read and validate a config file; `env` defaults to os.environ; raise ConfigError."""
    env = os.environ if env is None else env
    path = path.expanduser().absolute()
    return parse_config(_read_toml(path), env, source=path, need_secrets=need_secrets)


@dataclass(frozen=True)
class ConnectConfig:
    """What `sync-job connect` needs before the rest is filled in: state, TikTok app, shop ids."""

    state: StateConfig
    tiktok: TikTokConfig
    configured_shops: frozenset[str]


def load_connect_config(path: Path, env: Mapping[str, str] | None = None) -> ConnectConfig:
    """Validate only [state] and [tiktok] (shops read for their ids): connect comes first."""
    env = os.environ if env is None else env
    path = path.expanduser().absolute()
    data = _read_toml(path)
    _reject_unknown("", data, _TOP_LEVEL)
    tiktok = dict(_as_table("tiktok", data.get("tiktok", {})))
    raw_shops = tiktok.pop("shops", [])
    shops = raw_shops if isinstance(raw_shops, list) else []
    ids = {str(s["id"]) for s in shops if isinstance(s, dict) and isinstance(s.get("id"), str)}
    state_cls, state_keys = _SECTIONS["state"]
    state = state_cls(**_read_table("state", data.get("state", {}), state_keys, env))
    tiktok_keys = {k: v for k, v in _SECTIONS["tiktok"][1].items() if k != "shops"}
    settings = TikTokConfig(**_read_table("tiktok", tiktok, tiktok_keys, env))
    state = replace(state, path=_anchor(path.parent, state.path))
    return ConnectConfig(state, settings, frozenset(ids - EXAMPLE_VALUES))


def find_config_path(explicit: str | None, env: Mapping[str, str]) -> Path:
    """Pick the config file: --config, else $SYNC_JOB_CONFIG, else ./config.toml."""
    chosen = explicit or env.get(CONFIG_ENV) or DEFAULT_CONFIG
    return Path(chosen).expanduser()
