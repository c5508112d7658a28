"""Fixtures of the engine tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mariadb_support import MariaDBServer


@pytest.fixture(scope="module")
def server(mariadb_url: str) -> Iterator[MariaDBServer]:
    """A root session on MariaDB; what a test module creates through it is dropped at its end."""
    session = MariaDBServer(mariadb_url)
    yield session
    session.close()
