"""The simulators' HTTP base: how long one call takes over a keep-alive connection.

- sandbox_keepalive_ms_per_call: calls of growing size (0 to 199 bytes of body) over one
  requests session to a `LoopbackServer` echo, each answer parsed. The server writes headers and
  body separately; with Nagle's algorithm on, each call would stall on the client's delayed ACK
  (40 ms on Linux), so this is where such a stall would show. Target: <= 10 ms per call (200
  calls in 2 s, the bound a timed test held before the suite moved timing out of tests).
  The test suite checks the cause instead (tests/sandbox/test_server_and_main.py: Nagle is off
  on the server's socket).
"""

from __future__ import annotations

import time

import requests

from bench.report import Line, median
from sync_job.sandbox.server import LoopbackServer, Request, Response, json_response

TARGET_MS = 10.0
NAGLE_STALL_MS = 40.0  # Linux's shortest delayed ACK: what a stall would cost each call


class _Echo(LoopbackServer):
    def handle(self, request: Request) -> Response | None:
        return json_response(200, {"path": request.path, "n": len(request.body)})


def measure(calls: int) -> list[float]:
    """Milliseconds of each of `calls` echo calls over one keep-alive session."""
    took: list[float] = []
    with _Echo() as server, requests.Session() as http:
        for n in range(calls):
            started = time.perf_counter()
            r = http.post(server.url + "/echo", data=b"x" * (n % 200), timeout=5)
            if r.json() != {"path": "/echo", "n": n % 200}:
                raise RuntimeError(f"wrong echo for call {n}: {r.text}")
            took.append((time.perf_counter() - started) * 1000)
    return took


def run(quick: bool) -> list[Line]:
    """Mean and median milliseconds per keep-alive call to the loopback server base."""
    calls = 200 if quick else 2000
    took = measure(calls)
    mean = sum(took) / len(took)
    return [
        Line(
            "sandbox_keepalive_ms_per_call",
            f"{mean:.2f}",
            f"target <= {TARGET_MS:g}; mean of {calls} calls over one keep-alive connection, "
            f"{sum(took) / 1000:.2f} s in all; a Nagle stall would cost >= {NAGLE_STALL_MS:g}",
            mean <= TARGET_MS,
        ),
        Line("sandbox_keepalive_median_ms", f"{median(took):.2f}", "same calls, median"),
        Line("sandbox_keepalive_slowest_ms", f"{max(took):.1f}", "same calls, the slowest"),
    ]
