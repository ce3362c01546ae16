"""Secrets never leak: every command, the daemon and the failure cases, with distinctive values.

The four configured secrets, a wrong secret given by mistake, and every token the simulators hand
out during the test must not show in stdout, stderr (the logs, at debug level too), `status
--json`, or the state database outside its tokens table. The configured secrets are never stored
at all, so not a byte of them may be in the database files.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import structlog

from sync_job.domain.model import Tokens
from sync_job.domain.redact import secret_forms
from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.sandbox.tiktok_sim import TikTokSimulator
from sync_job.service.app import RedactingTokenStore
from sync_job.service.logs import configure_logging, register_secrets
from sync_job.state.store import Store
from sync_job.tiktok.client import TikTokClient
from tests.e2e.conftest import SECRETS, SHOP, Sandbox, past_clock, running_sandbox
from tests.factories import line, order

pytestmark = pytest.mark.e2e

WRONG = {
    "DEALPOS_CLIENT_SECRET": "dp-wrong-secret-QX7Z8",
    "TIKTOK_REFRESH_TOKEN": "tt-wrong-refresh-QX7Z9",
}
DEALPOS_TOKEN = re.compile(r"dp_[0-9a-f]{40}")  # the DealPOS simulator's bearer tokens
BAD_CONFIGS = {
    "typo-next-to-a-secret": '[dealpos]\nclient_secert = "{DEALPOS_CLIENT_SECRET}"\n',
    "secret-of-the-wrong-type": '[tiktok]\napp_secret = ["{TIKTOK_APP_SECRET}"]\n',
    "broken-toml-on-a-secret-line": '[tiktok]\naccess_token = "{TIKTOK_ACCESS_TOKEN}\n',
    "secret-as-an-outlet-choice": '[sync]\nsettle_completed = "{TIKTOK_REFRESH_TOKEN}"\n',
}


class Transcript:
    """Everything the commands printed, and every secret value seen while they ran."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.outputs: list[tuple[str, str]] = []
        self.secrets: set[str] = {*SECRETS.values(), *WRONG.values()}

    def run(
        self,
        *args: str,
        codes: tuple[int, ...] = (0,),
        env: dict[str, str] | None = None,
        config: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run one command; keep what it printed; note the tokens the simulators now hold."""
        path = config or self.box.config_path
        proc = subprocess.run(
            [sys.executable, "-m", "sync_job", "--config", str(path), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **SECRETS, **(env or {})},
        )
        self.keep(" ".join(args), proc.stdout, proc.stderr)
        assert proc.returncode in codes, (args, proc.returncode, proc.stderr[-2000:])
        return proc

    def keep(self, name: str, stdout: str, stderr: str) -> None:
        """Record one command's output and the simulators' current tokens."""
        self.outputs.append((f"{name} (stdout)", stdout))
        self.outputs.append((f"{name} (stderr)", stderr))
        self.secrets.update(self.box.tiktok.tokens)

    def assert_clean(self) -> None:
        """No secret, no DealPOS token and no traceback in anything printed."""
        for name, text in self.outputs:
            found = [s for s in self.secrets if s in text]
            assert not found, f"{name} shows {found}"
            assert not DEALPOS_TOKEN.search(text), f"{name} shows a DealPOS token"
            assert "Traceback" not in text, f"{name} crashed:\n{text[-2000:]}"


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    """Fault-free simulators and a config for them."""
    with running_sandbox(tmp_path) as sandbox:
        yield sandbox


def run_daemon_once(t: Transcript) -> None:
    """Start `run`, wait for a finished cycle, stop it with SIGTERM: exit 0."""
    before = count_runs(t.box.state_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync_job", "--config", str(t.box.config_path), "-v", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **SECRETS},
    )
    deadline = time.monotonic() + 30
    while count_runs(t.box.state_path) <= before and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=40)
    t.keep("run", stdout, stderr)
    assert proc.returncode == 0, stderr[-2000:]
    assert count_runs(t.box.state_path) > before, "the daemon never finished a cycle"


def count_runs(path: Path) -> int:
    """How many finished runs the state database records."""
    db = sqlite3.connect(path)
    try:
        return int(
            db.execute("SELECT COUNT(*) FROM runs WHERE finished_at IS NOT NULL").fetchone()[0]
        )
    finally:
        db.close()


def dump_without_tokens(path: Path) -> str:
    """The database as SQL (sqlite3 .dump), minus the tokens table's rows."""
    db = sqlite3.connect(path)
    try:
        lines = [ln for ln in db.iterdump() if not ln.startswith('INSERT INTO "tokens"')]
    finally:
        db.close()
    assert any(ln.startswith('INSERT INTO "orders"') for ln in lines)  # the dump has content
    return "\n".join(lines)


def test_no_command_shows_or_stores_a_secret(box: Sandbox, tmp_path: Path) -> None:
    """Every command, the daemon and the failure cases keep every secret out of sight."""
    t = Transcript(box)
    gen = LifecycleGenerator(box.tiktok, SHOP, seed=21, clock=past_clock, unknown_sku_share=0)
    gen.bulk_create(6)
    stamp = int(time.time()) - 20
    unknown = order("AWAITING_SHIPMENT", lines=[line("NOT-IN-DEALPOS")], update_time=stamp)
    box.tiktok.put_order(SHOP, unknown)
    first_day = (date.today() - timedelta(days=2)).isoformat()

    t.run("-v", "once")  # debug logs: every HTTP call is logged
    t.run("once", "--dry-run")
    box.tiktok.expire_access_token()
    gen.advance(5)
    t.run("-v", "once", env={"TIKTOK_REFRESH_TOKEN": WRONG["TIKTOK_REFRESH_TOKEN"]}, codes=(1,))
    t.run("-v", "once")  # refreshes with the right token; both new tokens saved
    t.run("-v", "backfill", "--from", first_day)
    t.run("backfill", "--from", first_day, "--dry-run")
    t.run("status")
    status_json = t.run("status", "--json").stdout
    assert json.loads(status_json)["shops"][0]["attention"]  # the unknown SKU is listed
    t.run("retry")
    t.run("retry", "--order", unknown["id"])
    run_daemon_once(t)

    gen.advance(5)  # work for DealPOS, which now refuses the credentials
    t.run("-v", "once", env={"DEALPOS_CLIENT_SECRET": WRONG["DEALPOS_CLIENT_SECRET"]}, codes=(1,))
    box.write_config(**{"tiktok.base_url": "http://127.0.0.1:9"})  # nothing listens there
    t.run("-v", "once", codes=(1,))
    box.write_config(**{"tiktok.base_url": box.tiktok.url})
    for name, extra in BAD_CONFIGS.items():
        bad = tmp_path / f"{name}.toml"
        bad.write_text(box.config_path.read_text() + extra.format(**SECRETS))
        t.run("once", config=bad, codes=(2,))
        t.run("status", "--json", config=bad, codes=(2,))

    t.assert_clean()
    dump = dump_without_tokens(box.state_path)
    assert not [s for s in t.secrets if s in dump]
    assert not DEALPOS_TOKEN.search(dump)
    for path in box.state_path.parent.iterdir():  # the database and its -wal/-shm files
        data = path.read_bytes()
        assert not [s for s in SECRETS.values() if s.encode() in data], path.name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE(box.state_path.parent.stat().st_mode) == 0o700
    saved = Store.open(box.state_path).load_tokens("e2e-app-key")
    assert saved is not None and saved.access_token in t.secrets  # the tokens table is used


# Secrets with every character that changes under an encoding: `+ / =` (percent-encoding), quotes
# and a backslash (repr and JSON escaping).
AWKWARD = {
    "app_secret": "tt+app/secret==QX7ZA",
    "access_token": "tt-access+'tok\\en\"QX7ZB",
    "refresh_token": "tt/refresh+tok=en'QX7ZC",
}


def every_spelling(secret: str) -> set[str]:
    """Raw, repr-escaped, percent-encoded (both ways, both hex cases), JSON-escaped."""
    percent = {quote(secret, safe=""), quote_plus(secret), quote(secret)}
    escaped = json.dumps(secret)[1:-1]
    return {
        secret,
        repr(secret)[1:-1],
        escaped,
        escaped.replace("/", "\\/"),
        *percent,
        *(re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), p) for p in percent),
    }


def test_every_encoding_of_a_secret_is_masked(restore_logging: None) -> None:
    """A secret reaches a log line raw, as a repr, percent-encoded or JSON-escaped: all masked,
    in values, nested values, exceptions and stdlib records alike."""
    out = io.StringIO()
    configure_logging(verbose=True, json=True, stream=out)
    register_secrets(AWKWARD.values())
    log = structlog.get_logger("sync_job.test")
    for secret in AWKWARD.values():
        assert every_spelling(secret) <= secret_forms(secret)
        for spelled in every_spelling(secret):
            log.info("spelled", url=f"https://h/p?a={spelled}&b=1", nested={"x": [spelled]})
            log.warning("body", error=ValueError(f"bad header {spelled}"))
            logging.getLogger("urllib3.connectionpool").debug('"GET /p?s=%s HTTP/1.1" 200', spelled)
    text = out.getvalue()
    assert text.count("***") >= 3 * 3 * len(every_spelling(AWKWARD["app_secret"]))
    leaked = [f for s in AWKWARD.values() for f in every_spelling(s) if f in text]
    assert not leaked


def test_debug_log_of_the_token_refresh_masks_percent_encoded_secrets(
    restore_logging: None,
) -> None:
    """With -v, urllib3 logs the token-refresh URL, where app_secret and refresh_token are
    percent-encoded (`%2B %2F %3D`): the real line, through a real loopback server, is masked."""
    out = io.StringIO()
    configure_logging(verbose=True, json=True, stream=out)
    register_secrets(AWKWARD.values())  # what the CLI does with the configured secrets
    with TikTokSimulator(
        "awkward-app-key",
        AWKWARD["app_secret"],
        [(SHOP, "cipher")],
        access_token=AWKWARD["access_token"],
        refresh_token=AWKWARD["refresh_token"],
        rate_limit_per_second=None,
    ) as sim:
        store = Store.memory()
        client = TikTokClient(
            base_url=sim.url,
            auth_url=sim.url,
            app_key="awkward-app-key",
            app_secret=AWKWARD["app_secret"],
            initial_tokens=Tokens(AWKWARD["access_token"], 0, AWKWARD["refresh_token"], 0),
            token_store=RedactingTokenStore(store),
            sleep=lambda s: None,
        )
        fresh = client.refresh_tokens()
        client.fetch_authorized_shops()  # a signed call carrying the new access token
    text = out.getvalue()
    assert "/api/v2/token/refresh?" in text  # urllib3's debug line with the URL was written
    assert "app_secret=***" in text
    secrets = [*AWKWARD.values(), fresh.access_token, fresh.refresh_token]
    leaked = [f for s in secrets for f in every_spelling(s) if f in text]
    assert not leaked
