"""Analyze warns of every column whose values the upload refuses, naming the column, its
declared type, the lake's type and the rows; the upload then refuses that very column, and a
table that fits has no warning. On SQLite and the PostgreSQL and MariaDB services (tables
`fxa_*`, dropped after)."""

from __future__ import annotations

import csv
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest

from lakeshift.artifacts import ANALYSIS_JSON, ANALYSIS_PICKLE, read_pickle
from lakeshift.project import load_project
from lakeshift.steps.analyze import analyze
from lakeshift.steps.outcome import TableOutcome
from lakeshift.steps.upload import upload

# table -> (create, inserts); each test names the tables it expects refused and the column
Tables = dict[str, tuple[str, list[str]]]


def _run(
    make_project: Callable[..., Path], url: str, tables: list[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, TableOutcome], dict[str, TableOutcome]]:
    """Analyze then upload `tables`: the analysis entries and analyze's and upload's outcomes."""
    project = load_project(make_project(url, [{"source_table": t} for t in tables]))
    analyzed = {o.source_table: o for o in analyze(project)}
    content = json.loads((project.output / ANALYSIS_JSON).read_text(encoding="utf-8"))
    assert read_pickle(project.output / ANALYSIS_PICKLE)["tables"] == content["tables"]
    with (project.output / "migration_results.csv").open(encoding="utf-8") as handle:
        assert {row["source_table"] for row in csv.DictReader(handle)} == set(tables)
    uploaded = {
        o.source_table: o for o in upload(project, project.output / ANALYSIS_PICKLE, workers=1)
    }
    return {t["source_table"]: t for t in content["tables"]}, analyzed, uploaded


def _assert_warned_then_refused(
    entries: dict[str, dict[str, Any]],
    analyzed: dict[str, TableOutcome],
    uploaded: dict[str, TableOutcome],
    table: str,
    column: str,
    expected: str,
) -> None:
    [warning] = entries[table]["warnings"]
    assert warning.startswith(f"{table}.{column}: ") and expected in warning, warning
    assert warning in analyzed[table].detail  # the summary printed shows it
    assert uploaded[table].status == "failed"
    assert f"{column}" in uploaded[table].detail, uploaded[table].detail


def _assert_fits(
    entries: dict[str, dict[str, Any]], uploaded: dict[str, TableOutcome], table: str
) -> None:
    assert entries[table]["warnings"] == []
    assert uploaded[table].status == "uploaded", uploaded[table].detail


# --- SQLite -----------------------------------------------------------------------------------


def test_sqlite_values_the_upload_refuses_are_warned_of_by_analyze(
    tmp_path: Path, make_project: Callable[..., Path]
) -> None:
    path = tmp_path / "source.db"
    with sqlite3.connect(path) as connection:
        for name in ("fxa_third", "fxa_day", "fxa_fits"):
            connection.execute(
                f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, n NUMERIC, d DATE, s TEXT)"
            )
        connection.execute("INSERT INTO fxa_third VALUES (1, 1.25, '2024-01-01', 'a')")
        connection.execute("INSERT INTO fxa_third VALUES (2, 1.0 / 3, NULL, NULL)")
        connection.execute("INSERT INTO fxa_third VALUES (3, 2.0 / 3, NULL, NULL)")
        connection.execute("INSERT INTO fxa_day VALUES (1, 1, '2024-02-31', 'a')")
        connection.execute("INSERT INTO fxa_fits VALUES (1, 0.5, '2024-02-29', 'a')")
        connection.execute("INSERT INTO fxa_fits VALUES (2, 12345, NULL, NULL)")
    entries, analyzed, uploaded = _run(
        make_project, f"sqlite:///{path}", ["main.fxa_third", "main.fxa_day", "main.fxa_fits"]
    )
    _assert_warned_then_refused(
        entries,
        analyzed,
        uploaded,
        "main.fxa_third",
        "n",
        "2 row(s) hold values of NUMERIC that do not fit the lake's decimal(38,10)",
    )
    _assert_warned_then_refused(
        entries, analyzed, uploaded, "main.fxa_day", "d", "1 row(s) hold values of DATE"
    )
    _assert_fits(entries, uploaded, "main.fxa_fits")


def _table_maker(
    execute: Callable[[str], Any], schema: str, made: list[str]
) -> Callable[[Tables], list[str]]:
    """`create(tables)` makes and fills `{schema}.fxa_<hex>_<name>` for each table, adding its
    name to `made` (for the fixture to drop), and returns `made`."""
    prefix = f"fxa_{uuid.uuid4().hex[:8]}"

    def create(tables: Tables) -> list[str]:
        for name, (columns, inserts) in tables.items():
            table = f"{schema}.{prefix}_{name}"
            execute(f"CREATE TABLE {table} ({columns})")
            made.append(table)
            for values in inserts:
                execute(f"INSERT INTO {table} VALUES {values}")
        return made

    return create


# --- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture
def postgres_tables(postgres_url: str) -> Iterator[Callable[[Tables], list[str]]]:
    """Creates `public.fxa_<hex>_<name>` tables; drops them after the test."""
    made: list[str] = []
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        try:
            yield _table_maker(admin.execute, "public", made)
        finally:
            for table in made:
                admin.execute(f"DROP TABLE IF EXISTS {table}")


def test_postgres_values_and_types_the_upload_refuses_are_warned_of_by_analyze(
    postgres_url: str,
    postgres_tables: Callable[[Tables], list[str]],
    make_project: Callable[..., Path],
) -> None:
    wide, nan, day, money, point, fits = postgres_tables(
        {
            "wide": ("id int, n numeric", ["(1, 1.25)", "(2, 3.123456789012)", "(3, 1.5000)"]),
            "nan": ("id int, n numeric(12,2)", ["(1, 1.25)", "(2, 'NaN')"]),
            "day": ("id int, d date", ["(1, '2024-01-01')", "(2, 'infinity')"]),
            "money": ("id int, m money", ["(1, 1.25)"]),
            "point": ("id int, p point", ["(1, '(1,2)')"]),
            "fits": (
                "id int, n numeric, m numeric(12,2), d date, t timestamptz",
                [
                    "(1, 1.5000, 2.5, '2024-01-01', '9999-12-31 12:00+00')",
                    "(2, -0.25, 0, NULL, NULL)",
                ],
            ),
        }
    )
    entries, analyzed, uploaded = _run(
        make_project, postgres_url, [wide, nan, day, money, point, fits]
    )
    _assert_warned_then_refused(
        entries,
        analyzed,
        uploaded,
        wide,
        "n",
        "1 row(s) hold values of numeric that do not fit the lake's decimal(38,10)",
    )
    _assert_warned_then_refused(
        entries,
        analyzed,
        uploaded,
        nan,
        "n",
        "1 row(s) hold values of numeric(12,2) that do not fit the lake's decimal(12,2)",
    )
    _assert_warned_then_refused(
        entries, analyzed, uploaded, day, "d", "1 row(s) hold values of date that do not fit"
    )
    for table, column, type_ in ((money, "m", "money"), (point, "p", "point")):
        _assert_warned_then_refused(
            entries, analyzed, uploaded, table, column, f"type {type_} has no exact logical type"
        )
    _assert_fits(entries, uploaded, fits)


# --- MariaDB ----------------------------------------------------------------------------------


@pytest.fixture
def mariadb_tables(mariadb_url: str) -> Iterator[Callable[[Tables], list[str]]]:
    """Creates `test.fxa_<hex>_<name>` tables (zero dates allowed); drops them after the test."""
    made: list[str] = []
    connection = pymysql.connect(
        host="127.0.0.1", port=3306, user="root", password="", database="test", autocommit=True
    )
    cursor = connection.cursor()
    cursor.execute("SET SESSION sql_mode = ''")
    try:
        yield _table_maker(cursor.execute, "test", made)
    finally:
        for table in made:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        connection.close()


def test_mariadb_values_and_types_the_upload_refuses_are_warned_of_by_analyze(
    mariadb_url: str,
    mariadb_tables: Callable[[Tables], list[str]],
    make_project: Callable[..., Path],
) -> None:
    zero, wide, fits = mariadb_tables(
        {
            "zero": (
                "id INT, d DATE",
                ["(1, '2024-01-01')", "(2, '0000-00-00')", "(3, '2024-03-00')"],
            ),
            "wide": ("id INT, n DECIMAL(65,30)", ["(1, 1.25)"]),
            "fits": ("id INT, n DECIMAL(38,10), d DATETIME(6)", ["(1, 1.25, '2024-01-01')"]),
        }
    )
    entries, analyzed, uploaded = _run(make_project, mariadb_url, [zero, wide, fits])
    _assert_warned_then_refused(
        entries,
        analyzed,
        uploaded,
        zero,
        "d",
        "2 row(s) hold values of date that do not fit the lake's date",
    )
    # Kept exactly as decimal256 in a local lake, which DuckDB cannot read exactly: a warning,
    # though this upload goes through
    [warning] = entries[wide]["warnings"]
    assert warning.startswith(f"{wide}.n: decimal(65,30) is the lake's decimal(65,30)"), warning
    assert uploaded[wide].status == "uploaded"
    _assert_fits(entries, uploaded, fits)
