"""End-to-end harness: both simulators on loopback, the real `sync-job` command in a subprocess
(`status`, the harness's probe between runs, in process)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sync_job.sandbox.catalogue import dealpos_variants
from sync_job.sandbox.check import MirrorReport, compare_mirror
from sync_job.sandbox.dealpos_sim import DealposSimulator
from sync_job.sandbox.faults import FaultConfig
from sync_job.sandbox.tiktok_sim import TikTokSimulator
from sync_job.service.cli import main
from sync_job.state.store import Store

SHOP = "7495000000000000042"
CIPHER = "GCP_e2e+shop/cipher=="
# Distinctive values, so a leak is unmistakable wherever it shows up.
SECRETS = {
    "TIKTOK_APP_SECRET": "tt-app-secret-QX7Z1",
    "TIKTOK_ACCESS_TOKEN": "tt-access-token-QX7Z2",
    "TIKTOK_REFRESH_TOKEN": "tt-refresh-token-QX7Z3",
    "DEALPOS_CLIENT_SECRET": "dp-client-secret-QX7Z4",
}
RUN_TIMEOUT = 120


def past_clock(seconds: float = 30.0) -> float:
    """Now minus a little: simulated updates land safely before `now - lag`."""
    return time.time() - seconds


@dataclass
class Sandbox:
    """Two simulators and a config file pointing the real command at them."""

    tiktok: TikTokSimulator
    dealpos: DealposSimulator
    root: Path
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        """Where the config file lives."""
        return self.root / "config.toml"

    @property
    def state_path(self) -> Path:
        """The state database."""
        return self.root / "state" / "sync.db"

    def write_config(self, **overrides: Any) -> None:
        """(Re)write config.toml; overrides are `section.key` → value."""
        values = {
            "sync.overlap_seconds": 600,
            "sync.lag_seconds": 0,
            "sync.initial_lookback_seconds": 3600,
            "sync.settle_completed": "always",
            "dealpos.rate_limit": 100000,
            "dealpos.rate_window_seconds": 1,
            "dealpos.timeout_seconds": 1.5,
            "tiktok.timeout_seconds": 1.5,
            "retry.max_attempts": 4,
            "retry.max_backoff_seconds": 0.2,
            **self.settings,
            **overrides,
        }
        self.settings = values
        self.config_path.write_text(_toml(self.tiktok.url, self.dealpos.url, values))

    def run(
        self, *args: str, check_codes: tuple[int, ...] = (0,)
    ) -> subprocess.CompletedProcess[str]:
        """Run `python -m sync_job --config ... ARGS` to completion."""
        proc = subprocess.run(
            [sys.executable, "-m", "sync_job", "--config", str(self.config_path), *args],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            env={**os.environ, **SECRETS},
        )
        assert proc.returncode in check_codes, proc.stderr[-3000:]
        return proc

    def status(self) -> dict[str, Any]:
        """`status --json`, parsed: the command itself (`main`), run in this process.

        `settle` asks after every run; in a subprocess each answer cost an interpreter start
        and the command's imports (about a second of CPU), for a read of the state file.
        The commands under test still run as subprocesses (`run`).
        """
        args = ["--config", str(self.config_path), "status", "--json"]
        result = CliRunner().invoke(main, args, env=SECRETS, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr[-3000:]
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def settle(self, max_runs: int = 12) -> int:
        """Run `once` until a run changes nothing and nothing is left in the outbox."""
        for runs in range(1, max_runs + 1):
            self.run("once", check_codes=(0, 1))
            shop = self.status()["shops"][0]
            counts = shop["last_run"].get("counts", {})
            box = shop["outbox"]
            if shop["last_run"].get("status") == "ok" and counts.get("changed", 1) == 0 \
                    and box["pending"] == 0 and box["in_flight"] == 0:  # fmt: skip
                return runs
        raise AssertionError(f"did not settle in {max_runs} runs: {self.status()}")

    def quarantined_orders(self) -> set[str]:
        """Orders with an open 'rejected' attention item (a SKU DealPOS does not know)."""
        store = Store.open(self.state_path)
        try:
            return {a["order_id"] for a in store.open_attention(SHOP) if a["kind"] == "rejected"}
        finally:
            store.close()

    def report(self) -> MirrorReport:
        """DealPOS's state against the desired state of every TikTok order."""
        return compare_mirror(
            self.tiktok,
            self.dealpos,
            SHOP,
            settle_always=self.settings["sync.settle_completed"] == "always",
            quarantined=self.quarantined_orders(),
        )


def _value(v: Any) -> str:
    if isinstance(v, str):
        return json.dumps(v)
    return str(v).lower() if isinstance(v, bool) else str(v)


def _toml(tiktok_url: str, dealpos_url: str, values: dict[str, Any]) -> str:
    sections: dict[str, dict[str, Any]] = {
        "state": {"path": "state/sync.db"},
        "schedule": {"interval_seconds": 1, "jitter_seconds": 0},
        "tiktok": {"base_url": tiktok_url, "auth_url": tiktok_url, "app_key": "e2e-app-key"},
        "dealpos": {"base_url": dealpos_url, "client_id": "e2e-client"},
    }
    for dotted, v in values.items():
        section, key = dotted.split(".")
        sections.setdefault(section, {})[key] = v
    lines = []
    for name, table in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {_value(v)}" for k, v in table.items())
        if name == "tiktok":
            lines += ["[[tiktok.shops]]", f'id = "{SHOP}"', f'cipher = "{CIPHER}"',
                      'outlet = "Online Store"']  # fmt: skip
    return "\n".join(lines) + "\n"


def make_sandbox(root: Path, *, tiktok_faults: FaultConfig | None = None,
                 dealpos_faults: FaultConfig | None = None, **sim: Any) -> Sandbox:  # fmt: skip
    """Start both simulators (with distinctive credentials) and write a config for them."""
    tiktok = TikTokSimulator(
        "e2e-app-key",
        SECRETS["TIKTOK_APP_SECRET"],
        [(SHOP, CIPHER)],
        access_token=SECRETS["TIKTOK_ACCESS_TOKEN"],
        refresh_token=SECRETS["TIKTOK_REFRESH_TOKEN"],
        faults=tiktok_faults,
        rate_limit_per_second=None,
        token_lifetime_seconds=sim.pop("tiktok_token_lifetime", 7 * 86400),
    )
    dealpos = DealposSimulator(
        "e2e-client",
        SECRETS["DEALPOS_CLIENT_SECRET"],
        variants=dealpos_variants(),
        rate_limit=sim.pop("dealpos_rate_limit", 100000),
        rate_window_seconds=sim.pop("dealpos_rate_window", 1.0),
        faults=dealpos_faults,
        mode=sim.pop("dealpos_mode", None),
    )
    tiktok.start()
    dealpos.start()
    sandbox = Sandbox(tiktok, dealpos, root)
    sandbox.write_config()
    return sandbox


@contextlib.contextmanager
def running_sandbox(root: Path, **options: Any) -> Iterator[Sandbox]:
    """make_sandbox(root, **options), stopping both simulators afterwards."""
    box = make_sandbox(root, **options)
    try:
        yield box
    finally:
        box.tiktok.stop()
        box.dealpos.stop()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """Fault-free simulators and a config for them."""
    with running_sandbox(tmp_path) as box:
        yield box
