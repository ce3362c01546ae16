"""`python -m bench.peak_rss CMD ...`: run CMD, then print its peak RSS in KiB on stdout.

Why a separate small process: a child's `ru_maxrss` includes the memory of the process it was
forked from (Linux carries the old address space's high-water mark across exec). Forked straight
from a benchmark that holds 100,000 orders in its simulator, the command would be charged for
the benchmark's gigabyte. Forked from this small process, it is charged only for itself (this
process's own few MiB, at most, which are far below any figure measured).
"""

from __future__ import annotations

import os
import subprocess
import sys


def main(argv: list[str]) -> int:
    """Run the command with this process's stdin and stderr; print its peak RSS; pass its code."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    print(usage.ru_maxrss, flush=True)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
