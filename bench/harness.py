"""Shared set-up for the benchmarks: simulators, configurations, orders and the real command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync_job.domain import jsonutil
from sync_job.sandbox import defaults
from sync_job.sandbox.catalogue import dealpos_variants
from sync_job.sandbox.dealpos_sim import DealposSimulator
from sync_job.sandbox.faults import FaultConfig
from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.sandbox.invoices import TenantMode
from sync_job.sandbox.server import Request, Response
from sync_job.sandbox.tiktok_sim import TikTokSimulator
from sync_job.service.app import App
from sync_job.service.config import Config, parse_config
from sync_job.service.logs import configure_logging

SHOP = defaults.TIKTOK_SHOP_ID
# "Limit off": far more than any benchmark makes, so neither side ever holds a call back.
NO_LIMIT = 10_000_000
ROOT = Path(__file__).resolve().parent.parent


class TimedDealpos(DealposSimulator):
    """The DealPOS simulator, noting when each API call arrived (monotonic seconds)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: list[float] = []

    def handle(self, request: Request) -> Response | None:
        """Note the arrival, then answer as the simulator does."""
        if not request.path.startswith("/_sandbox/"):
            self.arrivals.append(time.monotonic())
        return super().handle(request)


def tiktok_options(clock: Callable[[], float]) -> dict[str, Any]:
    """Constructor arguments of a TikTok simulator with the sandbox's app, shop and tokens."""
    return {
        "app_key": defaults.TIKTOK_APP_KEY,
        "app_secret": defaults.TIKTOK_APP_SECRET,
        "shops": [(SHOP, defaults.TIKTOK_SHOP_CIPHER)],
        "access_token": defaults.TIKTOK_ACCESS_TOKEN,
        "refresh_token": defaults.TIKTOK_REFRESH_TOKEN,
        # Fault-free and without its own rate limit: the figures are about DealPOS and the engine.
        "rate_limit_per_second": None,
        "clock": clock,
    }


def start_tiktok(clock: Callable[[], float] = time.time) -> TikTokSimulator:
    """A TikTok simulator on a free loopback port."""
    sim = TikTokSimulator(**tiktok_options(clock))
    sim.start()
    return sim


def json_object(body: bytes) -> dict[str, Any]:
    """A request body parsed as a JSON object."""
    data = jsonutil.loads(body)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


def start_dealpos(
    limit: int = NO_LIMIT,
    window: float = 1.0,
    faults: FaultConfig | None = None,
    mode: TenantMode | None = None,
) -> TimedDealpos:
    """A DealPOS simulator with the given quota (limit off by default) and mode, on a free port."""
    sim = TimedDealpos(
        defaults.DEALPOS_CLIENT_ID,
        defaults.DEALPOS_CLIENT_SECRET,
        variants=dealpos_variants(),
        outlets=[defaults.DEALPOS_OUTLET],
        payment_methods=[defaults.DEALPOS_PAYMENT_METHOD],
        rate_limit=limit,
        rate_window_seconds=window,
        faults=faults,
        mode=mode,
    )
    sim.start()
    return sim


def settings(
    tiktok: TikTokSimulator, dealpos: DealposSimulator, db: Path, **overrides: Any
) -> dict[str, Any]:
    """A configuration (as TOML-shaped data) pointing at both simulators.

    `overrides` are `section__key=value`, e.g. `dealpos__rate_limit=20`.
    """
    data: dict[str, Any] = {
        "state": {"path": str(db)},
        "sync": {},
        "tiktok": {
            "base_url": tiktok.url,
            "auth_url": tiktok.url,
            "app_key": defaults.TIKTOK_APP_KEY,
            "app_secret": defaults.TIKTOK_APP_SECRET,
            "access_token": defaults.TIKTOK_ACCESS_TOKEN,
            "refresh_token": defaults.TIKTOK_REFRESH_TOKEN,
            "shops": [
                {
                    "id": SHOP,
                    "cipher": defaults.TIKTOK_SHOP_CIPHER,
                    "outlet": defaults.DEALPOS_OUTLET,
                }
            ],
        },
        "dealpos": {
            "base_url": dealpos.url,
            "client_id": defaults.DEALPOS_CLIENT_ID,
            "client_secret": defaults.DEALPOS_CLIENT_SECRET,
            "payment_method": defaults.DEALPOS_PAYMENT_METHOD,
            "rate_limit": NO_LIMIT,
            "rate_window_seconds": 1,
        },
        "retry": {},
    }
    for dotted, value in overrides.items():
        section, key = dotted.split("__")
        data[section][key] = value
    return data


def make_config(data: Mapping[str, Any]) -> Config:
    """Validate configuration data exactly as the command does (no environment secrets)."""
    return parse_config(dict(data), env={})


def quiet_logs() -> None:
    """Log as the command does (JSON lines, INFO) into /dev/null: formatting cost kept."""
    configure_logging(stream=open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process


def run_once(config: Config, clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """One `once`, in process, the way the command runs it; returns the shop's run counts."""
    app = App.open(config, clock=clock)
    try:
        (result,) = app.run_once(None)
    finally:
        app.close()
    if result.status != "ok":
        raise RuntimeError(f"run ended {result.status}: {result.error}")
    return result.counts


def generator(tiktok: TikTokSimulator, clock: Callable[[], float], seed: int) -> LifecycleGenerator:
    """A lifecycle generator whose orders use only SKUs DealPOS knows (no quarantine noise)."""
    return LifecycleGenerator(tiktok, SHOP, seed=seed, clock=clock, unknown_sku_share=0.0)


def add_paid_orders(tiktok: TikTokSimulator, count: int, first: int, last: int) -> None:
    """Put `count` new AWAITING_SHIPMENT orders, update times spread evenly over [first, last]."""
    gen = generator(tiktok, time.time, seed=count)
    step = (last - first) / max(count - 1, 1)
    for n in range(count):
        gen.new_order(status="AWAITING_SHIPMENT", update_time=int(first + n * step))


def toml_text(data: Mapping[str, Any]) -> str:
    """Write configuration data as TOML (tables of scalars, plus the [[tiktok.shops]] array)."""
    lines: list[str] = []
    for section, table in data.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if k != "shops"]
        for shop in table.get("shops", []):
            lines.append(f"[[{section}.shops]]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in shop.items()]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@dataclass(frozen=True)
class CommandRun:
    """How one `sync-job` subprocess ended: exit code, wall time, peak RSS, its stderr file."""

    code: int
    seconds: float
    peak_rss_mb: float
    stderr: Path


def run_command(config_path: Path, *args: str, stderr: Path) -> CommandRun:
    """Run `python -m sync_job --config PATH ARGS` through bench.peak_rss, which reports its peak.

    The command's own rusage is read by a small intermediate process (see bench/peak_rss.py):
    read here, it would include this benchmark's memory, inherited at fork.
    """
    command = [sys.executable, "-m", "sync_job", "--config", str(config_path), *args]
    wrapper = [sys.executable, "-m", "bench.peak_rss", *command]
    started = time.monotonic()
    with stderr.open("wb") as err:
        proc = subprocess.run(wrapper, stdout=subprocess.PIPE, stderr=err, cwd=ROOT, check=False)
    seconds = time.monotonic() - started
    peak_kib = int(proc.stdout.split()[-1]) if proc.stdout.strip() else 0
    return CommandRun(proc.returncode, seconds, peak_kib / 1024, stderr)


@contextmanager
def running(*servers: TikTokSimulator | DealposSimulator) -> Iterator[None]:
    """Stop the given simulators on the way out, whatever happens."""
    try:
        yield
    finally:
        for server in servers:
            server.stop()
