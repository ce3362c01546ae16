"""Keeps the benchmark code from rotting: the cheapest figure runs end to end, quickly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_runner_prints_the_paging_figure() -> None:
    """`python -m bench.run --quick --only paging` runs and prints its figure with a verdict."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--only", "paging"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    figure = [
        ln for ln in proc.stdout.splitlines() if ln.startswith("tiktok_searches_per_needed_page:")
    ]
    assert len(figure) == 1, proc.stdout
    assert figure[0].endswith((" pass", " MISS")), figure[0]
