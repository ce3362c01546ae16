"""Fixtures shared by every test folder."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import responses
import structlog
from responses.registries import OrderedRegistry


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """A strict HTTP mock: answers in registration order, every registered answer must be used."""
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        yield mock


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo every global change sync_job.service.logs.configure_logging makes."""
    from sync_job.service.logs import HANDLER_NAME, QUIET_LOGGERS

    root = logging.getLogger()
    level = root.level
    yield
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()
