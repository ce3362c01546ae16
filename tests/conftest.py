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


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Undo every global change sync_job.service.logs.configure_logging makes, after every test.

    Autouse: any test that runs a command in-process (click's runner calls `main`, which
    configures logging for the process) would otherwise leave structlog filtering at INFO and a
    handler on a closed stream for whichever test runs next in the same worker.
    """
    from sync_job.service.logs import HANDLER_NAME, QUIET_LOGGERS

    root = logging.getLogger()
    level = root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    config = structlog.get_config()
    yield
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    for name, quiet_level in quiet.items():
        logging.getLogger(name).setLevel(quiet_level)
    structlog.contextvars.clear_contextvars()
    structlog.configure(**config)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the long tests first: the soaks, then the end-to-end ones, then the rest.

    Under pytest-xdist (`make test`) the long ones then start at once on every worker and the
    many short ones fill the gaps at the end, instead of one long test trailing alone. The sort
    is stable, so each group keeps its collection order (and every worker collects the same).
    """
    items.sort(key=_long_first)


def _long_first(item: pytest.Item) -> int:
    if item.get_closest_marker("soak"):
        return 0
    return 1 if item.get_closest_marker("e2e") else 2
