"""Chaos soak: many orders, faults on both sides, a daemon SIGKILLed and restarted; then check.

    .venv/bin/python bench/soak.py --orders 300 --kills 5 [--seed 1] [--webhooks]

Both simulators run in this process with 10% of calls failing (429, 500, slow past the client
timeout, dropped connections and, on DealPOS writes, the change applied but its answer lost). The
lifecycle generator drives N orders to their end while the real daemon (`python -m sync_job run`,
a cycle a second) is SIGKILLed at random moments and restarted. Once every order is final the
faults stop, the daemon drains the outbox and is stopped with SIGTERM, and one `once` run must
find nothing to do. Then it prints the figures and checks: every order's DealPOS invoice is the
desired one, no two invoices share a ReferenceNumber, no cancellation was lost, every quarantined
order has an attention item, and only orders with a SKU DealPOS does not know were quarantined.
Exit status 0 when every check holds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sync_job.sandbox.catalogue import UNKNOWN_PRODUCTS, dealpos_variants
from sync_job.sandbox.check import MirrorReport, compare_mirror
from sync_job.sandbox.dealpos_sim import DealposSimulator
from sync_job.sandbox.faults import FaultConfig
from sync_job.sandbox.generator import LifecycleGenerator
from sync_job.sandbox.invoices import TenantMode
from sync_job.sandbox.tiktok_sim import TikTokSimulator
from sync_job.sandbox.webhooks import WebhookFaults, WebhookSender

SHOP = "7495000000000000077"
CIPHER = "GCP_soak+shop/cipher=="
APP_KEY = "soak-app-key"
CLIENT_ID = "soak-client"
SECRETS = {
    "TIKTOK_APP_SECRET": "soak-tt-app-secret-7R2K",
    "TIKTOK_ACCESS_TOKEN": "soak-tt-access-token-7R2K",
    "TIKTOK_REFRESH_TOKEN": "soak-tt-refresh-token-7R2K",
    "DEALPOS_CLIENT_SECRET": "soak-dp-client-secret-7R2K",
}
CLIENT_TIMEOUT = 1.0  # both clients' HTTP timeout, seconds
SLOW_SECONDS = 1.5  # a slow simulator answer comes after the client gave up
LAG_SECONDS = 1
TICK = 0.25  # the generator moves the shop this often
STEP_CHANCE = 0.08  # per tick, an open order moves one step with this chance (~3 s per step)
WEBHOOK_FAULTS = WebhookFaults(
    dropped=0.20, duplicated=0.10, reordered=0.10, delayed=0.05, bad_signature=0.02,
    delay_seconds=2.0,
)  # fmt: skip
WEBHOOK_INTERVAL = 5
WEBHOOK_RETRIES = (1.0, 3.0, 10.0)  # TikTok's 2 min, 30 min, 3 h, 12 h, compressed
PROBE_SECONDS = 30.0
MIN_KILL_GAP = 1.5  # seconds between kills, so every restarted daemon gets some work done
STOP_TIMEOUT = 35.0  # SIGTERM must end the daemon within this (its promise is 30 s)
UNKNOWN_SKUS = frozenset(p.sku for p in UNKNOWN_PRODUCTS)


@dataclass(frozen=True)
class SoakOptions:
    """How big and how rough one soak is."""

    orders: int = 300
    kills: int = 5
    seed: int = 1
    generate_seconds: float | None = None  # default: grows with the order count
    fault_share: float = 0.10
    settle_timeout: float | None = None  # default: grows with the order count
    work_dir: Path | None = None  # default: a temporary folder, removed afterwards
    # Webhook mode: the TikTok simulator also pushes webhooks, 20% of them lost, some repeated,
    # reordered, late or mis-signed; the daemon polls every WEBHOOK_INTERVAL seconds instead of 1.
    webhooks: bool = False
    # How the simulated DealPOS tenant behaves: renumbering, documented field names, erase.
    dealpos_mode: str = "default"

    @property
    def duration(self) -> float:
        """How long the generator runs before it drains every order to its end."""
        if self.generate_seconds is not None:
            return self.generate_seconds
        return max(30.0, self.orders * 0.12, self.kills * MIN_KILL_GAP * 2)

    @property
    def settle_limit(self) -> float:
        """How long the fault-free drain may take."""
        return self.settle_timeout if self.settle_timeout is not None else 60 + self.orders * 0.05


@dataclass
class SoakReport:
    """The figures of one soak and the problems it found (none, when it passed)."""

    options: SoakOptions
    events: int = 0
    kills: int = 0
    starts: int = 0
    wall: dict[str, float] = field(default_factory=dict)
    tiktok_calls: dict[str, int] = field(default_factory=dict)
    dealpos_calls: dict[str, int] = field(default_factory=dict)
    runs: Counter[str] = field(default_factory=Counter)
    run_totals: Counter[str] = field(default_factory=Counter)
    invoices: Counter[str] = field(default_factory=Counter)
    quarantined: set[str] = field(default_factory=set)
    attention: Counter[str] = field(default_factory=Counter)
    mirror: MirrorReport = field(default_factory=MirrorReport)
    final_run: dict[str, Any] = field(default_factory=dict)
    webhooks: dict[str, int] = field(default_factory=dict)
    verify: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check held."""
        return not self.problems

    def lines(self) -> list[str]:
        """The printed figures, one fact per line."""
        o, w = self.options, self.wall
        out = [
            f"soak: {o.orders} orders, {self.kills} kills ({self.starts} daemon starts), "
            f"seed {o.seed}, faults {o.fault_share:.0%} per side, dealpos mode {o.dealpos_mode}",
            f"wall: {w.get('total', 0):.1f} s (generate {w.get('generate', 0):.1f} s, "
            f"drain {w.get('drain', 0):.1f} s, check {w.get('check', 0):.1f} s)",
            f"tiktok: {self.events} lifecycle events; calls {_fmt(self.tiktok_calls)}",
            f"dealpos: calls {_fmt(self.dealpos_calls)}",
            f"dealpos invoices: {sum(self.invoices.values())} ({_fmt(dict(self.invoices))})",
            f"sync runs: {_fmt(dict(self.runs))} ('running' = killed mid-run); "
            f"the finished ones did: {_fmt(dict(self.run_totals))}",
            f"quarantined orders: {len(self.quarantined)}; open attention: "
            f"{_fmt(dict(self.attention)) or 'none'}",
            f"final once: {_fmt(self.final_run)}",
            *([f"webhooks: {_fmt(self.webhooks)}"] if o.webhooks else []),
            f"final verify: {_fmt(self.verify)}",
            f"mirror: {self.mirror.summary()}",
        ]
        out += [f"PROBLEM: {p}" for p in self.problems[:50]]
        if len(self.problems) > 50:
            out.append(f"... and {len(self.problems) - 50} more problems")
        out.append("result: " + ("OK" if self.ok else f"FAILED ({len(self.problems)} problems)"))
        return out


def _fmt(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def _faults(share: float, seed: int, *, writes_can_lose: bool) -> FaultConfig:
    """`share` of calls fail, split evenly over the fault kinds this side can meet."""
    kinds = 5 if writes_can_lose else 4
    each = share / kinds
    return FaultConfig(
        rate_limited=each,
        server_error=each,
        slow=each,
        dropped=each,
        lost_response=each if writes_can_lose else 0.0,
        slow_seconds=SLOW_SECONDS,
        retry_after_seconds=0,
        seed=seed,
    )


def write_config(
    root: Path, tiktok_url: str, dealpos_url: str, webhook_listen: str | None = None
) -> Path:
    """A config for the daemon: a cycle a second, short timeouts, retries that never wait long.

    With `webhook_listen` the daemon also receives webhooks there, and polls every 5 s.
    """
    interval = 1 if webhook_listen is None else WEBHOOK_INTERVAL
    hook = "" if webhook_listen is None else f'[webhook]\nlisten = "{webhook_listen}"\n'
    text = f"""
{hook}[state]
path = "state/sync.db"
[schedule]
interval_seconds = {interval}
jitter_seconds = 0
[sync]
overlap_seconds = 120
lag_seconds = {LAG_SECONDS}
initial_lookback_seconds = 3600
settle_completed = "always"
[tiktok]
base_url = "{tiktok_url}"
auth_url = "{tiktok_url}"
app_key = "{APP_KEY}"
timeout_seconds = {CLIENT_TIMEOUT}
[[tiktok.shops]]
id = "{SHOP}"
cipher = "{CIPHER}"
outlet = "Online Store"
[dealpos]
base_url = "{dealpos_url}"
client_id = "{CLIENT_ID}"
rate_limit = 100000
rate_window_seconds = 1
timeout_seconds = {CLIENT_TIMEOUT}
[retry]
max_attempts = 4
max_backoff_seconds = 0.2
"""
    path = root / "config.toml"
    path.write_text(text)
    return path


class DaemonProcess:
    """The real daemon in a subprocess, logging to a file; killed and restarted on demand."""

    def __init__(self, config: Path, log_path: Path) -> None:
        self.config = config
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: IO[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        """Start a fresh daemon."""
        self.log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sync_job", "--config", str(self.config), "run"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **SECRETS},
        )
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL it, wherever it is: mid-call, mid-transaction, mid-start."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self._closed()

    def terminate(self) -> int:
        """SIGTERM it and wait for its exit code (None → it overran its stop promise)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = -999
        self._closed()
        return code

    def _closed(self) -> None:
        self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None


@contextmanager
def _state(path: Path) -> Iterator[sqlite3.Connection]:
    """A short-lived connection to the daemon's state database (only reads)."""
    conn = sqlite3.connect(str(path), timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    try:
        yield conn
    finally:
        conn.close()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _settled(path: Path, since: float) -> bool:
    """Nothing left to push, and a run that read past every change finished cleanly.

    "Read past" is the cursors' word, not a run's start time alone: a webhook round is a run
    too (status ok, after `since`) but reads only the notified orders and moves no cursor, so
    a change it was not told of (a return) would still wait for the next polling cycle.
    """
    if not path.exists():
        return False
    with _state(path) as db:
        left = db.execute(
            "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'in_flight')"
        ).fetchone()[0]
        clean = db.execute(
            "SELECT COUNT(*) FROM runs WHERE status = 'ok' AND started_at >= ?", (_iso(since),)
        ).fetchone()[0]
        (reached,) = db.execute("SELECT MIN(position) FROM cursors").fetchone()
    # A polling run started at `since` or later moves every cursor to int(since) - LAG_SECONDS
    # or beyond: past each change made before the drain began (TikTok's times are whole seconds).
    past = reached is not None and int(reached) >= int(since) - LAG_SECONDS
    return int(left) == 0 and int(clean) > 0 and past


def _unsettled(path: Path, since: float) -> str:
    """What keeps `_settled` false: the outbox by state, the newest runs (for the report)."""
    with _state(path) as db:
        box = dict(db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
        runs = db.execute(
            "SELECT started_at, status FROM runs ORDER BY started_at DESC LIMIT 3"
        ).fetchall()
    return f"outbox {box}, newest runs {runs}, waiting for an ok run since {_iso(since)}"


def _kill_times(rng: random.Random, kills: int, duration: float) -> list[float]:
    """Random moments in (1, duration), at least MIN_KILL_GAP apart."""
    if kills == 0:
        return []
    slack = duration - 1.0 - kills * MIN_KILL_GAP
    if slack < 0:
        raise ValueError(f"{kills} kills do not fit in {duration:.0f} s of generation")
    cuts = sorted(rng.uniform(0, slack) for _ in range(kills))
    return [1.0 + cut + (i + 1) * MIN_KILL_GAP for i, cut in enumerate(cuts)]


class Soak:
    """One soak: simulators, generator, daemon, the kill schedule and the final checks."""

    def __init__(self, options: SoakOptions, root: Path, echo: bool) -> None:
        self.options = options
        self.root = root
        self.echo = echo
        self.report = SoakReport(options)
        self.rng = random.Random(options.seed)
        self.tiktok = TikTokSimulator(
            APP_KEY,
            SECRETS["TIKTOK_APP_SECRET"],
            [(SHOP, CIPHER)],
            access_token=SECRETS["TIKTOK_ACCESS_TOKEN"],
            refresh_token=SECRETS["TIKTOK_REFRESH_TOKEN"],
            faults=_faults(options.fault_share, options.seed, writes_can_lose=False),
            rate_limit_per_second=None,
            seed=options.seed,
        )
        self.dealpos = DealposSimulator(
            CLIENT_ID,
            SECRETS["DEALPOS_CLIENT_SECRET"],
            variants=dealpos_variants(),
            rate_limit=100000,
            rate_window_seconds=1.0,
            faults=_faults(options.fault_share, options.seed + 1, writes_can_lose=True),
            seed=options.seed,
            mode=TenantMode.parse(options.dealpos_mode),
        )
        self.generator = LifecycleGenerator(self.tiktok, SHOP, seed=options.seed)
        self.state_path = root / "state" / "sync.db"

    def say(self, text: str) -> None:
        """Progress to stderr (figures go to stdout)."""
        if self.echo:
            print(f"[soak {time.monotonic() - self.t0:6.1f}s] {text}", file=sys.stderr, flush=True)

    def run(self) -> SoakReport:
        """Run every phase; the simulators stop whatever happens."""
        self.t0 = time.monotonic()
        self.tiktok.start()
        self.dealpos.start()
        listen = self._start_webhooks()
        config = write_config(self.root, self.tiktok.url, self.dealpos.url, listen)
        daemon = DaemonProcess(config, self.root / "daemon.log")
        try:
            daemon.start()
            self._generate(daemon)
            self._drain(daemon, config)
            self._check()
            self._verify(config)
        finally:
            daemon.kill()
            if self.tiktok.webhooks is not None:
                self.tiktok.webhooks.stop()
            self.tiktok.stop()
            self.dealpos.stop()
            self.report.starts = daemon.starts
            self.report.wall["total"] = time.monotonic() - self.t0
        return self.report

    def _start_webhooks(self) -> str | None:
        """In webhook mode: the simulator's sender, aimed at the port the daemon will listen on."""
        if not self.options.webhooks:
            return None
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            listen = f"127.0.0.1:{sock.getsockname()[1]}"
        faults = dataclasses.replace(WEBHOOK_FAULTS, seed=self.options.seed)
        url = f"http://{listen}/tiktok/webhook"
        sender = WebhookSender(
            url, APP_KEY, SECRETS["TIKTOK_APP_SECRET"], faults=faults, retry_after=WEBHOOK_RETRIES
        )
        self.tiktok.webhooks = sender.start()
        return listen

    def _generate(self, daemon: DaemonProcess) -> None:
        """Create N orders over the duration, move them at random, kill the daemon on schedule."""
        opts, gen = self.options, self.generator
        duration = opts.duration
        kills = _kill_times(self.rng, opts.kills, duration)
        start = time.monotonic()
        created = 0
        while (elapsed := time.monotonic() - start) < duration:
            due = min(opts.orders, math.ceil(opts.orders * elapsed / (duration * 0.8)))
            for _ in range(due - created):
                gen.new_order()
                self.report.events += 1
            created = max(created, due)
            for oid in gen.open_orders():
                if self.rng.random() < STEP_CHANCE:
                    gen.move(oid)
                    self.report.events += 1
            while kills and kills[0] <= elapsed:
                kills.pop(0)
                daemon.kill()
                self.report.kills += 1
                self.say(f"SIGKILL #{self.report.kills}; restarting")
                daemon.start()
            time.sleep(TICK)
        for _ in range(opts.orders - created):
            gen.new_order()
            self.report.events += 1
        self.report.events += len(gen.drain())
        if self.tiktok.webhooks is not None:
            self.tiktok.webhooks.flush()
        self.report.wall["generate"] = time.monotonic() - start
        self.say(f"generator drained: {len(gen.order_ids())} orders final")

    def _drain(self, daemon: DaemonProcess, config: Path) -> None:
        """Faults off; wait for the daemon to push everything; stop it; `once` finds nothing."""
        start = time.monotonic()
        quiet = FaultConfig()
        self.tiktok.set_faults(quiet)
        self.dealpos.set_faults(quiet)
        since = time.time() + LAG_SECONDS + 1
        deadline = start + self.options.settle_limit
        while not _settled(self.state_path, since):
            if time.monotonic() > deadline:
                self.report.problems.append(
                    f"the outbox did not drain within {self.options.settle_limit:.0f} s "
                    f"({_unsettled(self.state_path, since)})"
                )
                break
            time.sleep(0.5)
        self._probe_webhooks()
        code = daemon.terminate()
        if code != 0:
            self.report.problems.append(f"the daemon exited {code} on SIGTERM, not 0")
        self._final_once(config)
        self.report.wall["drain"] = time.monotonic() - start
        self.say("drained")

    def _probe_webhooks(self) -> None:
        """Webhook mode: one more notification with the daemon up for good must be worked off
        (the chaos alone may kill every daemon before its receiver is up on a slow machine)."""
        if self.tiktok.webhooks is None:
            return
        # Fault-free (the soak's sender may drop or mis-sign it), redelivered until answered.
        sender = WebhookSender(
            self.tiktok.webhooks.url, APP_KEY, SECRETS["TIKTOK_APP_SECRET"], retry_after=(0.5,) * 40
        ).start()
        order = self.tiktok.orders(SHOP)[0]
        sent = time.time() - 1.0
        sender.notify(SHOP, 1, str(order["id"]), str(order["status"]))
        try:
            self._wait_worked_off(str(order["id"]), sent)
        finally:
            sender.stop()

    def _wait_worked_off(self, order_id: str, sent: float) -> None:
        deadline = time.monotonic() + PROBE_SECONDS
        while time.monotonic() < deadline:
            with _state(self.state_path) as db:
                (done,) = db.execute(
                    "SELECT COUNT(*) FROM webhook_inbox WHERE order_id = ? AND received_at >= ? "
                    "AND outcome = 'pushed'",
                    (order_id, sent),
                ).fetchone()
            if done:
                return
            time.sleep(0.2)
        self.report.problems.append(
            f"webhook mode: a notification sent after the chaos was not worked off "
            f"within {PROBE_SECONDS:.0f} s"
        )

    def _final_once(self, config: Path) -> None:
        """One more `once`: nothing changed, nothing pending, not a single DealPOS call."""
        proc = subprocess.run(
            [sys.executable, "-m", "sync_job", "--config", str(config), "once"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **SECRETS},
        )
        with _state(self.state_path) as db:
            row = db.execute(
                "SELECT status, counts, error FROM runs "
                "ORDER BY started_at DESC, rowid DESC LIMIT 1"
            ).fetchone()
        counts = json.loads(row[1]) if row and row[1] else {}
        self.report.final_run = {
            "exit": proc.returncode,
            "status": row[0] if row else None,
            **{k: counts.get(k) for k in ("changed", "pending", "dealpos_calls")},
        }
        if proc.returncode != 0 or not row or row[0] != "ok":
            error = row[2] if row else None
            self.report.problems.append(f"the final once failed ({error}): {proc.stderr[-500:]}")
        elif counts.get("changed") or counts.get("pending") or counts.get("dealpos_calls"):
            self.report.problems.append(f"the final once still had work: {counts}")

    def _verify(self, config: Path) -> None:
        """`sync-job verify` over every day an order was paid: DealPOS's own invoice list must
        show no drift at all on the untouched mirror (orders quarantined on purpose are pending)."""
        tz = ZoneInfo("Asia/Jakarta")  # the config's sync.timezone (its default)
        paid = [int(o.get("paid_time") or o["create_time"]) for o in self.tiktok.orders(SHOP)]
        first = datetime.fromtimestamp(min(paid), tz).strftime("%Y-%m-%d")
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "sync_job",
                "--config",
                str(config),
                "verify",
                "--json",
                "--from",
                first,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **SECRETS},
        )
        try:
            (shop,) = json.loads(proc.stdout)["shops"]
        except (ValueError, KeyError):
            self.report.problems.append(f"verify printed no result: {proc.stderr[-500:]}")
            return
        kinds = Counter(str(f["kind"]) for f in shop["findings"])
        self.report.verify = {
            "exit": proc.returncode,
            "orders": shop["orders"],
            "invoices": shop["invoices"],
            "dealpos_calls": shop["dealpos_calls"],
            **kinds,
        }
        drift = [f for f in shop["findings"] if f["kind"] != "pending"]
        self.report.problems += [f"verify found {f['kind']}: {f}" for f in drift[:20]]
        if proc.returncode != 0 and not drift:
            self.report.problems.append(f"verify exited {proc.returncode}: {shop.get('error')}")
        if kinds["pending"] != len(self.report.quarantined):
            self.report.problems.append(
                f"verify saw {kinds['pending']} pending orders, the outbox holds "
                f"{len(self.report.quarantined)} quarantined ones"
            )

    def _check(self) -> None:
        """Compare the mirror and collect the figures."""
        start = time.monotonic()
        r = self.report
        with _state(self.state_path) as db:
            r.quarantined = {
                oid
                for (oid,) in db.execute(
                    "SELECT DISTINCT order_id FROM outbox WHERE state = 'quarantined'"
                )
            }
            attention = db.execute(
                "SELECT kind, order_id FROM attention WHERE resolved_at IS NULL"
            ).fetchall()
            for status, counts in db.execute("SELECT status, counts FROM runs"):
                r.runs[status] += 1
                for key in ("lookups", "adopted", "created", "sent", "paid", "recycled"):
                    r.run_totals[key] += int(json.loads(counts or "{}").get(key) or 0)
            if self.options.webhooks:
                r.webhooks = self._webhook_figures(db)
        r.attention = Counter(kind for kind, _ in attention)
        flagged = {oid for kind, oid in attention if kind == "rejected"}
        r.mirror = compare_mirror(
            self.tiktok, self.dealpos, SHOP, settle_always=True, quarantined=flagged
        )
        r.tiktok_calls = _outcomes(self.tiktok.calls.snapshot())
        r.dealpos_calls = _outcomes(self.dealpos.calls.snapshot())
        invoices = self.dealpos.invoices()
        r.invoices = Counter(
            "recycled" if i.status == "Cancelled" else f"{i.fulfillment}+{i.payment_status}"
            for i in invoices
        )
        self._problems(invoices_by_ref=Counter(i.reference for i in invoices), flagged=flagged)
        r.wall["check"] = time.monotonic() - start

    def _webhook_figures(self, db: sqlite3.Connection) -> dict[str, int]:
        """What the sender did and what the daemon counted and worked off."""
        assert self.tiktok.webhooks is not None
        sent = {f"sender {k}": n for k, n in self.tiktok.webhooks.counts.items()}
        counted = {f"daemon {k}": n for k, n in db.execute("SELECT kind, n FROM webhook_counts")}
        outcomes = db.execute("SELECT outcome, COUNT(*) FROM webhook_inbox GROUP BY outcome")
        worked = {f"inbox {k or 'waiting'}": n for k, n in outcomes}
        return {**sent, **counted, **worked}

    def _problems(self, invoices_by_ref: Counter[str], flagged: set[str]) -> None:
        r = self.report
        m = r.mirror
        r.problems += [
            f"duplicate invoices for {ref}" for ref, n in invoices_by_ref.items() if n > 1
        ]
        r.problems += [f"missing: {x}" for x in m.missing]
        r.problems += [f"wrong: {x}" for x in m.wrong]
        r.problems += [f"lost cancellation: {x}" for x in m.lost_cancellations]
        r.problems += [f"job and seed reading disagree: {x}" for x in m.disagreements]
        r.problems += [
            f"quarantined without an attention item: {o}" for o in r.quarantined - flagged
        ]
        skus = {
            str(o["id"]): {str(li.get("seller_sku")) for li in o["line_items"]}
            for o in self.tiktok.orders(SHOP)
        }
        for oid in sorted(r.quarantined | flagged):
            if not skus.get(oid, set()) & UNKNOWN_SKUS:
                r.problems.append(f"order {oid} quarantined though DealPOS knows all its SKUs")
        if m.orders != self.options.orders:
            r.problems.append(f"TikTok holds {m.orders} orders, expected {self.options.orders}")


def _outcomes(snapshot: dict[str, dict[str, int]]) -> dict[str, int]:
    """Calls per outcome over every endpoint, inspection calls left out."""
    totals: Counter[str] = Counter()
    for endpoint, outcomes in snapshot.items():
        if "/_sandbox/" not in endpoint:
            totals.update(outcomes)
    return {"total": sum(totals.values()), **dict(totals)}


def run_soak(options: SoakOptions, *, echo: bool = False) -> SoakReport:
    """Run one soak in `options.work_dir` (or a temporary folder) and return its report."""
    if options.work_dir is not None:
        options.work_dir.mkdir(parents=True, exist_ok=True)
        return Soak(options, options.work_dir, echo).run()
    with tempfile.TemporaryDirectory(prefix="sync-soak-") as tmp:
        return Soak(options, Path(tmp), echo).run()


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the soak, print the figures; 0 when every check held."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=300, help="how many orders (N)")
    parser.add_argument("--kills", type=int, default=5, help="how many SIGKILLs of the daemon")
    parser.add_argument("--seed", type=int, default=1, help="seed of generator, faults and kills")
    parser.add_argument("--seconds", type=float, default=None, help="generation time")
    parser.add_argument("--faults", type=float, default=0.10, help="share of failing calls")
    parser.add_argument("--keep", type=Path, default=None, help="work folder to keep")
    parser.add_argument("--webhooks", action="store_true", help="webhook mode (20%% lost)")
    parser.add_argument(
        "--dealpos-mode",
        default="default",
        help="DealPOS tenant mode: renumbering, documented, erase (comma-separated)",
    )
    args = parser.parse_args(argv)
    options = SoakOptions(
        orders=args.orders,
        kills=args.kills,
        seed=args.seed,
        generate_seconds=args.seconds,
        fault_share=args.faults,
        work_dir=args.keep,
        webhooks=args.webhooks,
        dealpos_mode=args.dealpos_mode,
    )
    report = run_soak(options, echo=True)
    print("\n".join(report.lines()), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
