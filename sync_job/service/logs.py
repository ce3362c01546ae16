"""Logging set-up: structlog and stdlib records rendered alike, JSON or console, redacted.

Records from `requests`, `urllib3` and `apscheduler` (stdlib logging) go through a
`ProcessorFormatter`; our own structlog loggers run the same processors and renderer directly and
write to the same handler's stream under its lock (skipping the stdlib record machinery, which
cost more than the rest of a log line). Every line has the same shape: ISO UTC timestamp, level,
logger name, the bound contextvars (`run_id`, `shop_id`, ...), then the event.

Logs go to stderr by default so stdout stays clean for `status --json`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import sys
from collections.abc import Iterable
from typing import Any, Final, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from sync_job.domain.redact import MASK, Redactor

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
    return [structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=plain)]


def _final_processors(json: bool, colors: bool) -> list[Processor]:
    """Exception to text, redact, render: the end of every record's chain."""
    return [
        # Rendering the traceback to text before redaction is what lets us mask secrets in it.
        structlog.processors.format_exc_info,
        redact_secrets,
        *_renderers(json, colors),
    ]


def _formatter(json: bool, colors: bool) -> logging.Formatter:
    """The formatter of stdlib records (requests, urllib3, apscheduler)."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *_final_processors(json, colors),
        ],
    )


class HandlerWriter:
    """The logger under our structlog loggers: writes rendered lines to the handler's stream."""

    def __init__(self, name: str, handler: logging.StreamHandler[TextIO]) -> None:
        self.name = name  # read by add_logger_name
        self._handler = handler

    def msg(self, message: str) -> None:
        """Write one rendered line (under the handler's lock: stdlib lines never interleave)."""
        handler = self._handler
        with handler.lock or contextlib.nullcontext():
            try:
                handler.stream.write(message + "\n")
                handler.stream.flush()
            except (OSError, ValueError):  # a closed or broken stream must not stop a sync
                pass

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def _writer_factory(handler: logging.StreamHandler[TextIO]) -> Any:
    """structlog's logger factory: a HandlerWriter named after the module that asked."""

    def make(*args: Any) -> HandlerWriter:
        return HandlerWriter(str(args[0]) if args else "sync_job", handler)

    return make


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
    *, verbose: bool = False, json: bool | None = None, stream: TextIO | None = None
) -> None:
    """Set up structlog and stdlib logging; safe to call again (replaces the previous set-up)."""
    stream = sys.stderr if stream is None else stream
    tty = _is_tty(stream)
    as_json = not tty if json is None else json
    level = logging.DEBUG if verbose else logging.INFO
    handler = _install_handler(stream, _formatter(json=as_json, colors=tty), level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
    structlog.configure(
        processors=[*_shared_processors(), *_final_processors(as_json, tty)],
        logger_factory=_writer_factory(handler),
        # Filters by level before any processor runs: a debug call costs ~1 µs when not shown.
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Not cached: tests (structlog.testing.capture_logs) and re-configuration must take effect
        # on loggers created at import time.
        cache_logger_on_first_use=False,
    )
