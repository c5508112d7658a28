"""Corruption injection into a local lake, from SQLite, PostgreSQL and MariaDB sources.

The suite itself (the table, the injections and what each must be reported as) is
`corruption_support.CorruptionSuite`, shared with the S3 lake (tests/lake/test_s3_corruption.py).
The table is uploaded once per source; each test works on a copy of the project and its lake.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corruption_support import (
    CorruptionSuite,
    LocalLakeFiles,
    analyze_and_upload,
    drop_mariadb_table,
    drop_postgres_schema,
    mariadb_source,
    postgres_source,
    sqlite_source,
    write_project,
)


@pytest.fixture(scope="module", params=["sqlite", "postgres", "mariadb"])
def uploaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose single table was analyzed and uploaded; tests work on copies of it."""
    folder = tmp_path_factory.mktemp(f"corruption-{request.param}") / "project"
    folder.mkdir()
    name = f"lst_corruption_{os.getpid()}_{random.randrange(10**6)}"
    if request.param == "sqlite":
        url, table = sqlite_source(folder)
    elif request.param == "mariadb":
        request.addfinalizer(lambda: drop_mariadb_table(name))
        url, table = mariadb_source(request.getfixturevalue("mariadb_url"), name)
    else:
        url = request.getfixturevalue("postgres_url")
        request.addfinalizer(lambda: drop_postgres_schema(url, name))
        url, table = postgres_source(url, name)
    write_project(folder, url, table)
    analyze_and_upload(folder)
    return folder


@pytest.fixture
def project_copy(uploaded: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "copy"
    shutil.copytree(uploaded, folder)  # a lake is moved or copied whole: the catalog is relative
    return folder


@pytest.fixture
def lake(project_copy: Path) -> LocalLakeFiles:
    return LocalLakeFiles(project_copy)


class TestLocalLake(CorruptionSuite):
    pass


class TestLocalLakeWithPassTwoStreamed(CorruptionSuite):
    """Every pass 2 as when more rows differ than its scans of chosen groups cover: each side
    streams every row sorted by bucket, from SQLite, PostgreSQL and MariaDB alike, and every
    injection is still found and localized exactly."""

    @pytest.fixture(autouse=True)
    def _streamed(
        self, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
    ) -> Iterator[None]:
        from lakeshift.verify import diff

        calls: list[str] = []
        stream = diff._compare_streamed

        def counted(*arguments: Any, **options: Any) -> None:
            calls.append("streamed")
            stream(*arguments, **options)

        monkeypatch.setattr(diff, "MAX_PASS2_SCANS", -1)  # never enough scans; localizing unbounded
        monkeypatch.setattr(diff, "_compare_streamed", counted)
        yield
        # Injections statistics or period counts catch are localized by reading chosen groups;
        # those that keep every statistic reach the values level, and must have streamed.
        if any(name in request.node.name for name in ("swapped", "one_bit", "trailing")):
            assert calls, "pass 2 was not streamed: the test proved nothing new"
