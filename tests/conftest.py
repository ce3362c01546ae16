"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from responses.registries import OrderedRegistry


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """A strict HTTP mock: answers in registration order, every registered answer must be used."""
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        yield mock
