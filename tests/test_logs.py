"""Tests for the logging set-up: rendering, stdlib integration, context and secret redaction."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import pytest
import structlog

from sync_job.service.logs import (
    HANDLER_NAME,
    configure_logging,
    redact_secrets,
    register_secret,
)

SECRET = "tok-ABCDEF-123456-secret"


class TtyStream(io.StringIO):
    """A StringIO that says it is a terminal."""

    def isatty(self) -> bool:
        """Pretend to be a terminal."""
        return True


@pytest.fixture(autouse=True)
def _restore(restore_logging: None) -> None:
    """Every test here changes the logging set-up: undo it afterwards (tests/conftest.py)."""


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Parse every line written to the stream as JSON."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_when_not_a_tty() -> None:
    """A non-terminal stream gets one JSON object per line with an ISO UTC timestamp."""
    out = io.StringIO()
    configure_logging(stream=out)
    structlog.get_logger("sync_job.engine.cycle").info("cycle done", fetched=3)
    [line] = lines(out)
    assert line["event"] == "cycle done" and line["fetched"] == 3
    assert (line["level"], line["logger"]) == ("info", "sync_job.engine.cycle")
    assert line["timestamp"].endswith("Z")
    assert datetime.fromisoformat(line["timestamp"]).utcoffset() is not None
    assert list(line)[:4] == ["timestamp", "level", "logger", "event"]


def test_console_renderer_on_a_tty() -> None:
    """A terminal stream gets the readable console renderer, not JSON."""
    out = TtyStream()
    configure_logging(stream=out)
    structlog.get_logger().info("hello", shop_id="42")
    text = out.getvalue()
    assert "hello" in text and "shop_id" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_json_can_be_forced_on_a_tty() -> None:
    """json=True overrides the terminal check."""
    out = TtyStream()
    configure_logging(stream=out, json=True)
    structlog.get_logger().info("hello")
    assert lines(out)[0]["event"] == "hello"


def test_default_stream_is_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """Logs go to stderr, keeping stdout clean for `status --json`."""
    configure_logging()
    structlog.get_logger().info("to stderr")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert json.loads(captured.err)["event"] == "to stderr"


def test_stdlib_records_render_as_json_too() -> None:
    """Records from stdlib loggers (requests, apscheduler) get the same JSON shape."""
    out = io.StringIO()
    configure_logging(stream=out)
    logging.getLogger("requests").warning("retrying %s in %d s", "/orders", 5)
    logging.getLogger("apscheduler.scheduler").warning("job missed")
    first, second = lines(out)
    assert first["event"] == "retrying /orders in 5 s"
    assert (first["level"], first["logger"]) == ("warning", "requests")
    assert first["timestamp"].endswith("Z")
    assert second["logger"] == "apscheduler.scheduler"


def test_contextvars_appear_on_structlog_and_stdlib_lines() -> None:
    """run_id and shop_id bound with bind_contextvars appear on every line."""
    out = io.StringIO()
    configure_logging(stream=out)
    structlog.contextvars.bind_contextvars(run_id="r-1", shop_id="1001")
    structlog.get_logger().info("from structlog")
    logging.getLogger("urllib3.connectionpool").warning("from stdlib")
    for line in lines(out):
        assert (line["run_id"], line["shop_id"]) == ("r-1", "1001")


def test_info_level_and_quiet_libraries_by_default() -> None:
    """Without verbose: no debug lines, and urllib3/apscheduler info lines are hidden."""
    out = io.StringIO()
    configure_logging(stream=out)
    structlog.get_logger().debug("hidden debug")
    logging.getLogger("urllib3.connectionpool").info("hidden connection")
    logging.getLogger("apscheduler.executors.default").info("hidden job run")
    structlog.get_logger().info("shown")
    assert [line["event"] for line in lines(out)] == ["shown"]


def test_verbose_shows_debug_and_library_lines() -> None:
    """verbose=True shows debug lines, including urllib3's."""
    out = io.StringIO()
    configure_logging(stream=out, verbose=True)
    structlog.get_logger().debug("our debug")
    logging.getLogger("urllib3.connectionpool").debug("new connection")
    assert [line["event"] for line in lines(out)] == ["our debug", "new connection"]


def test_configure_twice_keeps_one_handler() -> None:
    """Calling configure_logging again replaces the set-up instead of doubling every line."""
    first, second = io.StringIO(), io.StringIO()
    configure_logging(stream=first, verbose=True)
    configure_logging(stream=second)
    structlog.get_logger().info("once")
    structlog.get_logger().debug("not verbose any more")
    handlers = [h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME]
    assert len(handlers) == 1
    assert first.getvalue() == ""
    assert [line["event"] for line in lines(second)] == ["once"]


def test_registered_secret_redacted_everywhere() -> None:
    """A registered secret is masked in the event, values, nested values and %-arguments."""
    out = io.StringIO()
    configure_logging(stream=out)
    register_secret(SECRET)
    log = structlog.get_logger()
    log.info(f"calling with {SECRET}", url=f"https://x/?t={SECRET}", nested={"a": [SECRET]})
    log.info("positional %s", SECRET)
    logging.getLogger("urllib3").warning("url %s", f"/path?{SECRET}")
    assert SECRET not in out.getvalue()
    first, second, third = lines(out)
    assert first["event"] == "calling with ***"
    assert first["url"] == "https://x/?t=***"
    assert first["nested"] == {"a": ["***"]}
    assert (second["event"], third["event"]) == ("positional ***", "url /path?***")


def test_registered_secret_redacted_in_exception_text() -> None:
    """Tracebacks (structlog and stdlib) are masked, in JSON and on the console."""
    out, console = io.StringIO(), TtyStream()
    register_secret(SECRET)
    for stream in (out, console):
        configure_logging(stream=stream)
        try:
            raise RuntimeError(f"refused token {SECRET}")
        except RuntimeError as exc:
            structlog.get_logger().exception("call failed", error=exc)
            logging.getLogger("requests").exception("stdlib failure")
    for line in lines(out):
        assert "RuntimeError: refused token ***" in line["exception"]
    assert "refused token ***" in console.getvalue()
    assert SECRET not in out.getvalue() + console.getvalue()


def test_sensitive_keys_are_masked_whole() -> None:
    """Values under keys like *secret*, *token*, authorization, password become ***."""
    event = {
        "event": "request",
        "app_secret": "s",
        "x-tts-access-token": "t",
        "headers": {"Authorization": "Bearer b", "Accept": "json"},
        "password": "p",
        "tokens_refreshed": 2,
    }
    result = redact_secrets(None, "info", event)
    assert result["app_secret"] == result["x-tts-access-token"] == result["password"] == "***"
    assert result["headers"] == {"Authorization": "***", "Accept": "json"}
    assert result["tokens_refreshed"] == 2  # counts are not secrets


def test_objects_are_rendered_then_redacted() -> None:
    """Values of other types are turned into text first, so a secret cannot hide inside."""
    register_secret(SECRET)
    result = redact_secrets(None, "info", {"event": "x", "error": ValueError(SECRET)})
    assert result["error"] == "ValueError('***')"


def test_short_secrets_are_ignored() -> None:
    """Values too short to be real secrets are not registered (they would garble logs)."""
    register_secret("ab")
    assert redact_secrets(None, "info", {"event": "abc"})["event"] == "abc"


def test_capture_logs_still_works_after_configure() -> None:
    """structlog.testing.capture_logs sees events from loggers made before configure."""
    log = structlog.get_logger()
    configure_logging(stream=io.StringIO())
    with structlog.testing.capture_logs() as captured:
        log.info("captured", n=1)
    assert captured == [{"event": "captured", "n": 1, "log_level": "info"}]


def _journal_file(tmp_path: Path) -> tuple[TextIO, dict[str, str]]:
    """A file standing in for journald's stream, and the JOURNAL_STREAM that names it."""
    stream = (tmp_path / "journal").open("w", encoding="utf-8")
    info = os.fstat(stream.fileno())
    return stream, {"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"}


def test_under_journald_every_line_starts_with_its_syslog_priority(tmp_path: Path) -> None:
    """With stderr as the journal stream, `<N>` leads each line (journald stores it as the
    priority, so `journalctl -p crit` finds the critical ones); the rest is the usual JSON."""
    stream, env = _journal_file(tmp_path)
    configure_logging(stream=stream, env=env, verbose=True)
    log = structlog.get_logger("sync_job.service.daemon")
    log.critical("authentication keeps failing")
    log.error("cycle crashed")
    logging.getLogger("urllib3.connectionpool").warning("connection pool is full")
    log.info("cycle finished")
    log.debug("window done")
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        log.exception("cycle crashed")
    stream.close()
    written = (tmp_path / "journal").read_text().splitlines()
    assert [line[:3] for line in written] == ["<2>", "<3>", "<4>", "<6>", "<7>", "<3>"]
    events = [json.loads(line[3:])["event"] for line in written]
    assert events[0] == "authentication keeps failing" and events[2] == "connection pool is full"
    assert "second line" in json.loads(written[-1][3:])["exception"]


def test_no_priority_prefix_when_the_journal_stream_is_another_file(tmp_path: Path) -> None:
    """JOURNAL_STREAM inherited by a process whose stderr goes elsewhere: plain JSON lines."""
    stream, env = _journal_file(tmp_path)
    other = (tmp_path / "other").open("w", encoding="utf-8")
    configure_logging(stream=other, env=env)
    structlog.get_logger().critical("plain")
    other.close()
    stream.close()
    assert json.loads((tmp_path / "other").read_text())["event"] == "plain"
    configure_logging(stream=io.StringIO(), env=env)  # no file behind the stream: no prefix


def test_the_command_under_journald_prefixes_its_lines(tmp_path: Path) -> None:
    """`sync-job once` run as systemd runs it (stderr = the journal stream): every log line
    carries a priority, warnings and errors below 6."""
    config = tmp_path / "config.toml"
    config.write_text(
        '[tiktok]\nbase_url = "http://127.0.0.1:9"\nauth_url = "http://127.0.0.1:9"\n'
        'app_key = "k"\n[[tiktok.shops]]\nid = "s1"\ncipher = "c1"\noutlet = "Online Store"\n'
        '[dealpos]\nbase_url = "http://127.0.0.1:9"\nclient_id = "c"\n'
        "[retry]\nmax_attempts = 1\n"
    )
    secrets = {
        name: f"{name.lower()}-JRNL"
        for name in ("TIKTOK_APP_SECRET", "TIKTOK_ACCESS_TOKEN", "TIKTOK_REFRESH_TOKEN")
    }
    stream, env = _journal_file(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "sync_job", "--config", str(config), "once"],
        stderr=stream,
        stdout=subprocess.DEVNULL,
        env={**os.environ, **secrets, "DEALPOS_CLIENT_SECRET": "dp-JRNL", **env},
        timeout=60,
        check=False,
    )
    stream.close()
    written = (tmp_path / "journal").read_text().splitlines()
    assert proc.returncode == 1, written
    assert written and all(re.match(r"<[2-7]>\{", line) for line in written), written
    assert any(int(line[1]) < 6 for line in written)
