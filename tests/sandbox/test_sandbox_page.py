"""`sync-job sandbox` (what `make run` starts) serves the operator page on loopback and says where;
the DealPOS watch page links to it."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests


@pytest.mark.timeout(90)
def test_sandbox_prints_and_serves_the_operator_page(tmp_path: Path) -> None:
    """The banner names the page's loopback address; it answers; Ctrl-C still exits 0."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync_job", "sandbox", "--state-dir", str(tmp_path / "s")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        banner = ""
        while "Ctrl-C stops everything" not in banner:
            line = proc.stderr.readline()
            assert line, f"the sandbox ended early: {banner}"
            banner += line
        page = re.search(r"operator page:\s+(http://127\.0\.0\.1:\d+/)", banner)
        watch = re.search(r"watch the invoices:\s+(http://127\.0\.0\.1:\d+/)", banner)
        assert page and watch, banner
        deadline = time.monotonic() + 30
        while True:  # the daemon binds the page a moment after printing the banner
            try:
                answer = requests.get(page.group(1), timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert answer.status_code == 200 and "Online Store" in answer.text
        assert requests.post(page.group(1) + "sign-in", timeout=5).status_code == 403
        assert f'href="{page.group(1)}"' in requests.get(watch.group(1), timeout=5).text
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
