"""Figure 4, engine overhead: `sync-job once` over N new paid orders ÷ a bare reference client.

Both clients run as subprocesses against the same simulators in this process, over loopback HTTP
with keep-alive sessions: a subprocess keeps the client's CPU off the simulators' interpreter
lock, as in production where the client has its process to itself. Each repetition gets a fresh
DealPOS simulator (and the engine a fresh state database), so both create the same N invoices
from scratch; DealPOS's limit is off. Interpreter start-up counts on both sides.
"""

from __future__ import annotations

import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import harness
from bench.engine_only import engine_cpu_per_order
from bench.report import Line, median, ratio
from sync_job.sandbox.tiktok_sim import TikTokSimulator

TARGET = 1.5
REPEATS = 5


def _timed(command: list[str]) -> tuple[float, float, float]:
    """Run a command to completion; return wall seconds, its CPU, the simulators' CPU.

    Its log goes to a file, as it would to journald: written, but not shown.
    """
    with tempfile.TemporaryFile() as log:
        served = time.process_time()  # this process: the simulators' threads
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, cwd=harness.ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        served = time.process_time() - served
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            log.seek(0)
            tail = log.read()[-2000:].decode(errors="replace")
            raise RuntimeError(f"{command[:4]} exited {proc.returncode}: {tail}")
    return elapsed, usage.ru_utime + usage.ru_stime, served


def _reference(
    tiktok_url: str, window: tuple[int, int], *options: str
) -> tuple[float, float, float]:
    dealpos = harness.start_dealpos()
    with harness.running(dealpos):
        command = [sys.executable, "-m", "bench.reference", tiktok_url, dealpos.url]
        return _timed([*command, *map(str, window), *options])


def _engine(
    tiktok: TikTokSimulator, folder: Path, orders: int, profile: Path | None
) -> tuple[float, float, float]:
    dealpos = harness.start_dealpos()
    with harness.running(dealpos):
        folder.mkdir()
        config = folder / "config.toml"
        config.write_text(harness.toml_text(harness.settings(tiktok, dealpos, folder / "s.db")))
        python = [sys.executable] + (["-m", "cProfile", "-o", str(profile)] if profile else [])
        timing = _timed([*python, "-m", "sync_job", "--config", str(config), "once"])
        made = len(dealpos.invoices())
    if made != orders:
        raise RuntimeError(f"engine created {made} invoices for {orders} orders")
    return timing


def measure(orders: int, repeats: int, profile: Path | None = None) -> dict[str, list[float]]:
    """Wall and CPU seconds of both clients over `repeats` alternating runs."""
    tiktok = harness.start_tiktok()
    now = int(time.time())
    harness.add_paid_orders(tiktok, orders, now - 3600, now - 600)
    # The engine's first run reads [now - initial_lookback, now - lag): the reference reads it too.
    window = (now - 86400, now - 120)
    out: dict[str, list[float]] = {}
    with harness.running(tiktok), tempfile.TemporaryDirectory() as tmp:
        for n in range(repeats):
            # The engine runs between its two references, so each ratio compares runs that met
            # the shared machine in about the same state.
            _note(out, "ref", _reference(tiktok.url, window))
            folder = Path(tmp) / str(n)
            _note(out, "engine", _engine(tiktok, folder, orders, profile if n == 0 else None))
            _note(out, "lean", _reference(tiktok.url, window, "--env-once"))
    return out


def _note(out: dict[str, list[float]], side: str, timing: tuple[float, float, float]) -> None:
    for suffix, value in zip(("", "_cpu", "_server_cpu"), timing, strict=True):
        out.setdefault(side + suffix, []).append(value)


def run(quick: bool, profile: Path | None = None) -> list[Line]:
    """Engine ÷ reference wall time for `once` over new paid orders."""
    orders = 500 if quick else 5000
    runs = measure(orders, REPEATS, profile)
    got = {k: median(v) for k, v in runs.items()}
    # The median of each repetition's own ratio: steadier than a ratio of medians when the
    # machine's speed drifts between repetitions.
    value = median([e / r for e, r in zip(runs["engine"], runs["ref"], strict=True)])
    lean_value = median([e / r for e, r in zip(runs["engine"], runs["lean"], strict=True)])
    per_order = {k: v / orders * 1000 for k, v in got.items()}
    return [
        Line(
            "engine_overhead",
            ratio(value),
            f"target <= {TARGET}; sync-job once over {orders:,} new paid orders "
            f"÷ bare requests client, wall time, median of {REPEATS} paired runs",
            value <= TARGET,
        ),
        Line(
            "engine_overhead_by_run",
            " ".join(ratio(e / r) for e, r in zip(runs["engine"], runs["ref"], strict=True)),
            "each repetition's engine ÷ reference, in the order they ran",
        ),
        Line(
            "engine_once_seconds",
            f"{got['engine']:.2f}",
            f"median of {REPEATS}; per order {per_order['engine']:.2f} ms, "
            f"CPU {per_order['engine_cpu']:.2f} ms, simulators' CPU "
            f"{per_order['engine_server_cpu']:.2f} ms",
        ),
        Line(
            "reference_seconds",
            f"{got['ref']:.2f}",
            f"median of {REPEATS}; per order {per_order['ref']:.2f} ms, "
            f"CPU {per_order['ref_cpu']:.2f} ms, simulators' CPU "
            f"{per_order['ref_server_cpu']:.2f} ms",
        ),
        Line(
            "lean_reference_seconds",
            f"{got['lean']:.2f}",
            f"median of {REPEATS}; the reference with the engine's sessions (environment read "
            f"once per host, not per request); per order {per_order['lean']:.2f} ms",
        ),
        Line(
            "engine_overhead_vs_lean_reference",
            ratio(lean_value),
            "supporting: the engine's bookkeeping alone, both sides using the same sessions",
        ),
        Line("engine_cpu_overhead", ratio(got["engine_cpu"] / got["ref_cpu"]), "CPU ÷ CPU"),
        Line(
            "engine_only_cpu_ms_per_order",
            f"{engine_cpu_per_order(orders):.2f}",
            "one cycle in process with instant stand-ins for both APIs: bookkeeping alone",
        ),
    ]


def print_profile(path: Path, top: int = 30) -> None:
    """Print the functions with the most own and cumulative time from a cProfile dump."""
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
