"""Analyze on a small SQLite source: a table the source cannot name fails alone."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from lakeshift.engines.sqlite import SQLiteEngine
from lakeshift.errors import TerminalError
from lakeshift.project import load_project
from lakeshift.steps.analyze import analyze

AMBIGUOUS = 'main.b: several tables match ignoring case (main."B", main."b")'


@pytest.fixture
def two_tables(tmp_path: Path, make_project: Any) -> Path:
    path = tmp_path / "source.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE a (id INTEGER PRIMARY KEY)")
        connection.execute("CREATE TABLE b (id INTEGER PRIMARY KEY)")
    meta: Path = make_project(
        f"sqlite:///{path}", [{"source_table": "main.b"}, {"source_table": "main.a"}]
    )
    return meta


def test_a_name_the_source_cannot_resolve_fails_its_table_and_the_others_go_on(
    two_tables: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exists = SQLiteEngine.table_exists

    def table_exists(engine: SQLiteEngine, table: str) -> bool:
        if table == "main.b":
            raise TerminalError(AMBIGUOUS)
        return exists(engine, table)

    monkeypatch.setattr(SQLiteEngine, "table_exists", table_exists)
    sink = io.StringIO()
    handler = logger.add(sink, level="ERROR", format="{message}")
    try:
        outcomes = {o.source_table: o for o in analyze(load_project(two_tables))}
    finally:
        logger.remove(handler)
    assert outcomes["main.b"].status == "error" and outcomes["main.b"].detail == AMBIGUOUS
    assert outcomes["main.a"].status == "not_migrated"
    assert sink.getvalue() == f"{AMBIGUOUS}\n"  # the table named once, as the error names it
