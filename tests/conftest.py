"""Shared fixtures: real services (PostgreSQL, MariaDB), demo projects, a clean environment.

With LAKESHIFT_REQUIRE_SERVICES=1 (set by .ci/run) a service that cannot be reached fails the
tests that need it instead of skipping them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakeshift.demo.data import create_demo_database
from lakeshift.demo.files import write_demo_configs

POSTGRES_URL = os.environ.get(
    "LAKESHIFT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
MARIADB_URL = os.environ.get("LAKESHIFT_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306/test")


def _unavailable(service: str, error: Exception) -> None:
    message = f"{service} is not reachable: {error}"
    if os.environ.get("LAKESHIFT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} (LAKESHIFT_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the PostgreSQL service's `test` database, checked to answer."""
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except Exception as error:
        _unavailable("PostgreSQL", error)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def mariadb_url() -> str:
    """URL of the MariaDB service's `test` database, checked to answer."""
    try:
        import pymysql

        connection = pymysql.connect(
            host="127.0.0.1",
            port=3306,
            user="root",
            password="",
            database="test",
            connect_timeout=5,
        )
        connection.cursor().execute("SELECT 1")
        connection.close()
    except Exception as error:
        _unavailable("MariaDB", error)
    return MARIADB_URL


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process environment wins over .env: make sure a developer's own settings do not leak in."""
    monkeypatch.delenv("LAKESHIFT_SOURCE_URL", raising=False)


@pytest.fixture
def demo_folder(tmp_path: Path) -> Iterator[Path]:
    """A small demo project (SQLite source and the five config files), not yet analyzed."""
    folder = tmp_path / "demo"
    folder.mkdir()
    create_demo_database(folder / "source.db", 3_000, seed=11)
    write_demo_configs(folder)
    yield folder


@pytest.fixture
def make_project(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a project's five config files for any source URL; returns config_meta.cfg's path.

    `make_project(url, [{"source_table": ..., "date_column": ..., ...}], mappings={...})`
    """
    import json

    from lakeshift.inventory import HEADERS

    def build(
        source_url: str,
        tables: list[dict[str, object]],
        mappings: dict[str, object] | None = None,
        folder: Path | None = None,
        **migration: object,
    ) -> Path:
        folder = folder or tmp_path / "project"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [",".join(HEADERS)]
        for table in tables:
            cells = [
                '"'
                + str(table.get(h, "") if table.get(h) is not None else "").replace('"', '""')
                + '"'
                for h in HEADERS
            ]
            lines.append(",".join(cells))
        (folder / "input_tables.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        (folder / "column_mappings.json").write_text(json.dumps(mappings or {}), encoding="utf-8")
        (folder / ".env").write_text(f"LAKESHIFT_SOURCE_URL={source_url}\n", encoding="utf-8")
        config = {
            "chunk_size": 1000,
            "max_memory_mb": 256,
            "lake": "lake",
            "database": "test",
            **migration,
        }
        (folder / "migration_config.cfg").write_text(json.dumps(config), encoding="utf-8")
        (folder / "config_meta.cfg").write_text(
            '[input]\ntable = "input_tables.csv"\ncolumn_maps = "column_mappings.json"\nenv = ".env"\n\n'
            '[output]\nfolder = "output/"\ncsv.path = "migration_results.csv"\n',
            encoding="utf-8",
        )
        return folder / "config_meta.cfg"

    return build


@pytest.fixture
def dated_project(tmp_path: Path, make_project):  # type: ignore[no-untyped-def]
    """A project over a SQLite table `main.t` (id, at, name) over three months.

    `dated_project(rows, **migration)` returns config_meta.cfg's path.
    """
    import sqlite3

    def build(rows: int, **migration: object) -> Path:
        path = tmp_path / "dated.db"
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, at TIMESTAMP, name TEXT)")
            connection.executemany(
                "INSERT INTO t VALUES (?, ?, ?)",
                [(i, f"2024-0{1 + i % 3}-01 00:00:00", f"n{i}") for i in range(rows)],
            )
        table = {"source_table": "main.t", "target_table": "t", "date_column": "at"}
        meta: Path = make_project(f"sqlite:///{path}", [table], **migration)
        return meta

    return build
