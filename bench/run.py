"""`python -m bench.run`: print every benchmark figure as `name: value (target …) pass|MISS`.

    python -m bench.run                  # every figure, full sizes (about 25 minutes)
    python -m bench.run --quick          # every figure, small sizes (about 1-2 minutes)
    python -m bench.run --only quota     # one figure (repeat --only for more)
    python -m bench.run --only overhead --profile /tmp/engine.prof

Figures print, they do not assert: the exit status is 0 whenever every figure ran.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    calls,
    history,
    keepalive,
    memory,
    overhead,
    paging,
    quota,
    retention,
    shared_quota,
    verify,
    web,
    webhooks,
)
from bench.report import Line

FIGURES: dict[str, Callable[[bool], list[Line]]] = {
    "calls": calls.run,
    "quota": quota.run,
    "paging": paging.run,
    "overhead": overhead.run,
    "history": history.run,
    "memory": memory.run,
    "webhook_latency": webhooks.latency,
    "webhook_burst": webhooks.burst,
    "retention": retention.run,
    "web_page": web.run,
    "shared_quota": shared_quota.run,
    "verify": verify.run,
    "sandbox_keepalive": keepalive.run,
}


def machine() -> str:
    """One line naming the machine: CPUs, CPU model, Python, date."""
    model = "unknown CPU"
    with open("/proc/cpuinfo") as info:
        for row in info:
            if row.startswith("model name"):
                model = row.split(":", 1)[1].strip()
                break
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    return f"{os.cpu_count()} CPUs, {model}, Python {platform.python_version()}, {day}"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--only",
        action="append",
        choices=list(FIGURES),
        metavar="NAME",
        help=f"run only this figure (one of: {', '.join(FIGURES)})",
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="overhead: cProfile the engine's first run into FILE and print it",
    )
    return parser.parse_args(argv)


def _run_one(name: str, quick: bool, profile: Path | None) -> None:
    started = time.monotonic()
    if name == "overhead" and profile is not None:
        lines = overhead.run(quick, profile)
    else:
        lines = FIGURES[name](quick)
    for line in lines:
        print(line.text(), flush=True)
    print(f"  {name}_bench_seconds: {time.monotonic() - started:.0f} (time this figure took)")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen figures in order and print them; returns the exit status."""
    args = _parse(argv)
    names = args.only or list(FIGURES)
    print(f"# sync-job benchmarks{' (quick)' if args.quick else ''}: {machine()}", flush=True)
    for name in names:
        _run_one(name, args.quick, args.profile)
    if args.profile is not None and "overhead" in names:
        overhead.print_profile(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
