"""Logging set-up: structlog and stdlib records rendered alike, JSON or console, redacted.

structlog's documented stdlib integration: our structlog loggers are stdlib loggers underneath
(`LoggerFactory` + `ProcessorFormatter.wrap_for_formatter`), and one `ProcessorFormatter` on one
handler renders their events and the records of `requests`, `urllib3` and `apscheduler` alike.
Every line has the same shape: ISO UTC timestamp, level, logger name, the bound contextvars
(`run_id`, `shop_id`, ...), then the event.

Logs go to stderr by default so stdout stays clean for `status --json`. Under systemd, when
stderr is the journal's stream (`JOURNAL_STREAM` names it), each line starts with its syslog
priority (`<2>` critical ... `<7>` debug), which journald strips and stores, so that
`journalctl -p crit` finds the critical lines.

Event names are short lower-case phrases, "<what> <happened>" ("cycle finished", "tiktok call
retrying"); the details go in keys, never in the phrase.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from typing import Any, Final, TextIO, cast

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from sync_job.domain.redact import MASK, Redactor
from sync_job.service import console

__all__ = ["configure_logging", "redact_secrets", "register_secret", "register_secrets"]

HANDLER_NAME: Final = "sync_job"
# Secrets shorter than this are not registered: masking e.g. "ab" would garble every log line
# while protecting nothing.
MIN_SECRET_LENGTH: Final = 4
# Keys whose values are masked whatever they contain (compared lower-cased, as substrings).
SENSITIVE_KEY_PARTS: Final = ("secret", "token", "password", "authorization")
# Libraries that are chatty at INFO (one line per HTTP connection, per scheduled run).
QUIET_LOGGERS: Final = ("urllib3", "apscheduler")
# JSON lines start with these, whatever order the call site used, so they are easy to scan.
LEADING_KEYS: Final = ("timestamp", "level", "logger", "event")
_MAX_DEPTH: Final = 8

# Every secret the process has seen, masked in every form (raw, repr, JSON, percent-encoded).
_redactor = Redactor(min_length=MIN_SECRET_LENGTH)


def register_secret(value: str) -> None:
    """Mask this value, in all its encodings, wherever it appears in any later log line."""
    _redactor.add(value)


def register_secrets(values: Iterable[str]) -> None:
    """Register several secrets at once (e.g. every secret of the config)."""
    for value in values:
        register_secret(value)


def _mask_text(text: str) -> str:
    """Replace every registered secret inside `text`."""
    return _redactor.scrub(text)


def _is_sensitive(key: object) -> bool:
    """True for keys such as `app_secret`, `x-tts-access-token`, `Authorization`, `password`."""
    return _is_sensitive_name(str(key))


@functools.lru_cache(maxsize=1024)  # keys come from code: a few dozen names, asked every line
def _is_sensitive_name(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in SENSITIVE_KEY_PARTS)


def _redact(value: Any, depth: int = 0) -> Any:
    """Return `value` with secrets masked; objects are rendered (repr) first so none hide inside."""
    if isinstance(value, str):
        return _mask_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth < _MAX_DEPTH and isinstance(value, dict):
        return {k: _redact_item(k, v, depth + 1) for k, v in value.items()}
    if depth < _MAX_DEPTH and isinstance(value, list | tuple | set | frozenset):
        return [_redact(item, depth + 1) for item in value]
    # Exceptions, requests objects, Secret, ...: the renderer would repr them anyway.
    return _mask_text(repr(value))


def _redact_item(key: object, value: Any, depth: int) -> Any:
    """Mask a value entirely when its key is sensitive (numbers and None are left alone)."""
    if type(value) is str:  # most values: one check of the key, one scan of the text
        return MASK if _is_sensitive(key) else _mask_text(value)
    if _is_sensitive(key) and not (value is None or isinstance(value, bool | int | float)):
        return MASK
    return _redact(value, depth)


def redact_secrets(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Processor: mask registered secrets in every value and whole values of sensitive keys."""
    return {key: _redact_item(key, value, 0) for key, value in event_dict.items()}


def _leading_keys_first(
    logger: WrappedLogger, method_name: str, event_dict: EventDict
) -> EventDict:
    """Processor: move timestamp, level, logger and event to the front of the line."""
    first = {key: event_dict[key] for key in LEADING_KEYS if key in event_dict}
    return first | {k: v for k, v in event_dict.items() if k not in first}


def _shared_processors() -> list[Processor]:
    """Processors run on every record, structlog or stdlib, before rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def _renderers(json: bool, colors: bool) -> list[Processor]:
    """JSON lines for machines, the console renderer for people."""
    if json:
        return [_leading_keys_first, structlog.processors.JSONRenderer()]
    # Tracebacks are pre-rendered to text (so they can be redacted, and so rich's local-variable
    # dump never prints a secret); print that text as is.
    plain = structlog.dev.plain_traceback
    return [
        console.short_cycle_line,  # a person reads a short cycle line; JSON keeps every field
        structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=plain),
    ]


def _final_processors(json: bool, colors: bool) -> list[Processor]:
    """Exception to text, redact, render: the end of every record's chain."""
    return [
        # Rendering the traceback to text before redaction is what lets us mask secrets in it.
        structlog.processors.format_exc_info,
        redact_secrets,
        *_renderers(json, colors),
    ]


# Syslog priorities (sd-daemon(3)) of the level names structlog and logging use.
_PRIORITIES: Final = {
    "critical": 2,
    "fatal": 2,
    "error": 3,
    "exception": 3,
    "warning": 4,
    "warn": 4,
    "info": 6,
    "debug": 7,
}


def _syslog_priority_prefix(logger: WrappedLogger, method_name: str, rendered: Any) -> str:
    """Processor after the renderer: put `<N>` (the line's priority) before every line."""
    prefix = f"<{_PRIORITIES.get(method_name, 6)}>"
    return prefix + str(rendered).replace("\n", "\n" + prefix)


def _formatter(*, json: bool, colors: bool, journald: bool) -> logging.Formatter:
    """The one formatter of every record, structlog's and the libraries' alike."""
    tail: list[Processor] = [_syslog_priority_prefix] if journald else []
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *_final_processors(json, colors),
            *tail,
        ],
    )


def is_journal_stream(stream: TextIO, env: Mapping[str, str]) -> bool:
    """True when `stream` is the journal stream systemd names in $JOURNAL_STREAM ("dev:inode")."""
    device, sep, inode = env.get("JOURNAL_STREAM", "").partition(":")
    if not sep:
        return False
    try:
        info = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):  # no file behind it (StringIO), or closed
        return False
    return (str(info.st_dev), str(info.st_ino)) == (device, inode)


def _is_tty(stream: TextIO) -> bool:
    """True when the stream is an open terminal."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or already closed
        return False


def _install_handler(
    stream: TextIO, formatter: logging.Formatter, level: int
) -> logging.StreamHandler[TextIO]:
    """Replace our root handler (not anyone else's, e.g. pytest's) with a fresh one."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    handler = logging.StreamHandler(stream)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def configure_logging(
    *,
    verbose: bool = False,
    json: bool | None = None,
    stream: TextIO | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Set up structlog and stdlib logging; safe to call again (replaces the previous set-up)."""
    stream = sys.stderr if stream is None else stream
    tty = _is_tty(stream)
    as_json = not tty if json is None else json
    level = logging.DEBUG if verbose else logging.INFO
    journald = is_journal_stream(stream, os.environ if env is None else env)
    formatter = _formatter(json=as_json, colors=tty and not journald, journald=journald)
    if not as_json:
        # Log lines clear a backfill's progress bar and redraw it, instead of cutting it.
        stream = cast(TextIO, console.BarAwareStream(stream))
    handler = _install_handler(stream, formatter, level)
    if not as_json and not verbose:
        handler.addFilter(console.IdleCycleFilter())  # an idle cycle says nothing on a terminal
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        # Filters by level before any processor runs: a debug call costs ~1 µs when not shown.
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Not cached: tests (structlog.testing.capture_logs) and re-configuration must take effect
        # on loggers created at import time.
        cache_logger_on_first_use=False,
    )
