"""Corruption injection: every rule of the verification contract fails on a real difference.

A table holding every logical type, in SQLite, PostgreSQL and MariaDB (the same rows in each
engine's own types), is uploaded once into a local lake; each test copies the project, corrupts the lake's
Parquet files in one known way, runs `align`, and checks that the results name exactly the
injected difference (table, period, key, column) and nothing else.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from lakeshift.artifacts import ALIGNMENT_JSON, ANALYSIS_PICKLE
from lakeshift.project import load_project
from lakeshift.steps.align import align
from lakeshift.steps.analyze import analyze
from lakeshift.steps.upload import upload

ROWS = 400
START = datetime(2023, 1, 1)


def _rows() -> list[tuple[Any, ...]]:
    rng = random.Random(3)
    rows = []
    for i in range(1, ROWS + 1):
        moment = START + timedelta(days=rng.randrange(180), microseconds=rng.randrange(10**11))
        zoned = moment.isoformat(sep=" ", timespec="microseconds") + rng.choice(
            ["+02:00", "-05:00", "+00:00"]
        )
        rows.append(
            (
                i,
                round(rng.uniform(-1000, 1000), 2),
                rng.random() * 100,
                rng.choice(["alpha", "beta", "gamma|pipe", "back\\slash", "Zürich", "東京"])
                + str(i),
                rng.choice(["", None, "NULL", "text"]) if i % 10 else "",
                moment.isoformat(sep=" ", timespec="microseconds"),
                zoned,
                (moment.date() - timedelta(days=400)).isoformat(),
                i % 3 == 0,
                rng.randbytes(8),
            )
        )
    return rows


def _sqlite_source(folder: Path) -> tuple[str, str]:
    connection = sqlite3.connect(folder / "source.db")
    connection.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, price NUMERIC(12,2), ratio REAL, label TEXT, "
        "note TEXT, created_at TIMESTAMP, created_tz TIMESTAMPTZ, day DATE, flag BOOLEAN, payload BLOB)"
    )
    connection.executemany("INSERT INTO items VALUES (?,?,?,?,?,?,?,?,?,?)", _rows())
    connection.commit()
    connection.close()
    return "sqlite:///source.db", "main.items"


def _postgres_source(url: str, schema: str) -> tuple[str, str]:
    """The same rows in PostgreSQL's own types, in a schema of this test module."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
        connection.execute(
            f"CREATE TABLE {schema}.items (id bigint PRIMARY KEY, price numeric(12,2), ratio double precision,"
            " label text, note text, created_at timestamp, created_tz timestamptz, day date,"
            " flag boolean, payload bytea)"
        )
        rows = [
            (
                i,
                Decimal(str(p)),
                r,
                label,
                note,
                datetime.fromisoformat(at),
                datetime.fromisoformat(tz),
                datetime.fromisoformat(day).date(),
                flag,
                payload,
            )
            for i, p, r, label, note, at, tz, day, flag, payload in _rows()
        ]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {schema}.items VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows
            )
    return url, f"{schema}.items"


def _mariadb_source(url: str, table: str) -> tuple[str, str]:
    """The same rows in MariaDB's own types (BOOLEAN is TINYINT(1); TIMESTAMP is UTC)."""
    import pymysql

    connection = pymysql.connect(
        host="127.0.0.1", port=3306, user="root", database="test", autocommit=True
    )
    with connection.cursor() as cursor:
        cursor.execute("SET time_zone = '+00:00'")
        cursor.execute(
            f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, price DECIMAL(12,2), ratio DOUBLE, label TEXT,"
            " note TEXT, created_at DATETIME(6), created_tz TIMESTAMP(6) NULL, day DATE, flag BOOLEAN,"
            " payload BLOB) CHARACTER SET utf8mb4"
        )
        rows = [
            (
                i,
                Decimal(str(p)),
                r,
                label,
                note,
                datetime.fromisoformat(at),
                datetime.fromisoformat(tz).astimezone(UTC).replace(tzinfo=None),
                datetime.fromisoformat(day).date(),
                int(flag),
                payload,
            )
            for i, p, r, label, note, at, tz, day, flag, payload in _rows()
        ]
        cursor.executemany(f"INSERT INTO {table} VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)
    connection.close()
    return url, f"test.{table}"


def _drop_mariadb_table(table: str) -> None:
    import pymysql

    connection = pymysql.connect(
        host="127.0.0.1", port=3306, user="root", database="test", autocommit=True
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    connection.close()


def _drop_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(scope="module", params=["sqlite", "postgres", "mariadb"])
def uploaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose single table was analyzed and uploaded; tests work on copies of it."""
    folder = tmp_path_factory.mktemp(f"corruption-{request.param}") / "project"
    folder.mkdir()
    if request.param == "sqlite":
        url, table = _sqlite_source(folder)
    elif request.param == "mariadb":
        name = f"lst_corruption_{os.getpid()}_{random.randrange(10**6)}"
        request.addfinalizer(lambda: _drop_mariadb_table(name))
        url, table = _mariadb_source(request.getfixturevalue("mariadb_url"), name)
    else:
        url = request.getfixturevalue("postgres_url")
        schema = f"lst_corruption_{os.getpid()}_{random.randrange(10**6)}"
        request.addfinalizer(lambda: _drop_schema(url, schema))
        url, table = _postgres_source(url, schema)
    (folder / "input_tables.csv").write_text(
        f"source_table,target_table,date_column,key_columns,period\n{table},items,created_at,id,month\n",
        encoding="utf-8",
    )
    (folder / ".env").write_text(f"LAKESHIFT_SOURCE_URL={url}\n", encoding="utf-8")
    (folder / "migration_config.cfg").write_text(
        json.dumps({"chunk_size": 100, "lake": "lake"}), encoding="utf-8"
    )
    (folder / "config_meta.cfg").write_text(
        '[input]\ntable = "input_tables.csv"\nenv = ".env"\n\n[output]\nfolder = "output"\n',
        encoding="utf-8",
    )
    project = load_project(folder / "config_meta.cfg")
    analyze(project)
    [outcome] = upload(project, project.output / ANALYSIS_PICKLE)
    assert outcome.status == "uploaded", outcome.detail
    return folder


def _lake_files(folder: Path) -> list[Path]:
    return sorted((folder / "lake" / "lakeshift" / "items").rglob("*.parquet"))


def _rewrite_each(folder: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    for path in _lake_files(folder):
        table = pq.read_table(path)
        pq.write_table(change(table), path)


def _set_value(table: pa.Table, key: int, column: str, transform: Callable[[Any], Any]) -> pa.Table:
    index = table.schema.get_field_index(column)
    values = table.column(column).to_pylist()
    ids = table.column("id").to_pylist()
    if key not in ids:
        return table
    position = ids.index(key)
    values[position] = transform(values[position])
    return table.set_column(
        index, table.schema.field(index), pa.array(values, table.schema.field(index).type)
    )


def _align(folder: Path) -> dict[str, Any]:
    project = load_project(folder / "config_meta.cfg")
    align(project)
    content = json.loads((project.output / ALIGNMENT_JSON).read_text(encoding="utf-8"))
    return content["tables"][0]


def _differences(entry: dict[str, Any]) -> set[tuple[str, str, str | None]]:
    """Every (kind, key, column) the results name, from the values, columns and periods levels."""
    found: set[tuple[str, str, str | None]] = set()
    sample_lists = [entry["values"]["samples"]]
    sample_lists += [
        c["localized"]["samples"] for c in entry["columns_excluded"] if "localized" in c
    ]
    sample_lists += [p["localized"]["samples"] for p in entry["periods_excluded"]]
    for samples in sample_lists:
        for sample in samples:
            key = sample["key"]["id"]
            if sample["kind"] == "changed":
                found |= {("changed", key, c["column"]) for c in sample["columns"]}
            else:
                found.add((sample["kind"], key, None))
    return found


@pytest.fixture
def project_copy(uploaded: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "copy"
    shutil.copytree(uploaded, folder)  # a lake is moved or copied whole: the catalog is relative
    return folder


def test_clean_upload_matches_at_every_level(project_copy: Path) -> None:
    entry = _align(project_copy)
    assert entry["status"] == "match"
    assert all(entry["levels"].values())
    assert entry["rows_compared"] == ROWS
    assert entry["values"]["matched"] == ROWS
    assert _differences(entry) == set()


CHANGES: list[tuple[str, str, Callable[[Any], Any], int]] = [
    ("one digit of a decimal", "price", lambda v: v + Decimal("0.01"), 10),
    ("one microsecond of a timestamp", "created_at", lambda v: v + timedelta(microseconds=1), 20),
    ("a time-zone shift", "created_tz", lambda v: v + timedelta(hours=1), 30),
    ("a trailing space", "label", lambda v: v + " ", 40),
    ("a float beyond the statistics' tolerance", "ratio", lambda v: v * (1 + 1e-12), 45),
    ("a boolean flipped", "flag", lambda v: (not v) if isinstance(v, bool) else 1 - v, 46),
    ("one byte of a blob", "payload", lambda v: bytes([v[0] ^ 1]) + v[1:], 47),
    ("a date moved by a day", "day", lambda v: v + timedelta(days=1), 48),
]


@pytest.mark.parametrize(
    ("what", "column", "transform", "key"), CHANGES, ids=[c[0] for c in CHANGES]
)
def test_a_changed_value_is_found_and_localized(
    project_copy: Path, what: str, column: str, transform: Callable[[Any], Any], key: int
) -> None:
    _rewrite_each(project_copy, lambda table: _set_value(table, key, column, transform))
    entry = _align(project_copy)
    assert entry["status"] == "mismatch", what
    assert _differences(entry) == {("changed", str(key), column)}, what


def test_null_for_empty_string_is_found(project_copy: Path) -> None:
    _rewrite_each(project_copy, lambda table: _set_value(table, 10, "note", lambda v: None))
    entry = _align(project_copy)
    assert entry["status"] == "mismatch"
    assert _differences(entry) == {("changed", "10", "note")}


def test_two_values_swapped_between_rows_are_found(project_copy: Path) -> None:
    labels: dict[int, str] = {}

    def remember(table: pa.Table) -> pa.Table:
        for key, label in zip(
            table.column("id").to_pylist(), table.column("label").to_pylist(), strict=True
        ):
            labels[key] = label
        return table

    _rewrite_each(project_copy, remember)
    _rewrite_each(project_copy, lambda t: _set_value(t, 70, "label", lambda v: labels[71]))
    _rewrite_each(project_copy, lambda t: _set_value(t, 71, "label", lambda v: labels[70]))
    entry = _align(project_copy)
    assert entry["levels"]["statistics"], "a swap keeps every statistic: values must catch it"
    assert entry["status"] == "mismatch"
    assert _differences(entry) == {("changed", "70", "label"), ("changed", "71", "label")}


def _filter_rows(keep: Callable[[pa.Table], pa.Array]) -> Callable[[pa.Table], pa.Table]:
    return lambda table: table.filter(keep(table))


def test_a_dropped_row_is_found_in_its_period(project_copy: Path) -> None:
    _rewrite_each(project_copy, _filter_rows(lambda t: pc.not_equal(t.column("id"), 50)))
    entry = _align(project_copy)
    assert entry["status"] == "mismatch"
    assert [p["source_rows"] - p["target_rows"] for p in entry["periods_excluded"]] == [1]
    assert _differences(entry) == {("missing", "50", None)}


def test_a_duplicated_row_is_found(project_copy: Path) -> None:
    def duplicate(table: pa.Table) -> pa.Table:
        row = table.filter(pc.equal(table.column("id"), 60))
        return pa.concat_tables([table, row]) if row.num_rows else table

    _rewrite_each(project_copy, duplicate)
    entry = _align(project_copy)
    assert entry["status"] == "mismatch"
    assert _differences(entry) == {("extra", "60", None)}


def test_an_extra_row_is_found(project_copy: Path) -> None:
    path = _lake_files(project_copy)[0]
    table = pq.read_table(path)
    extra = _set_value(table.slice(0, 1), table.column("id")[0].as_py(), "id", lambda v: 10_001)
    pq.write_table(pa.concat_tables([table, extra]), path)
    entry = _align(project_copy)
    assert entry["status"] == "mismatch"
    assert _differences(entry) == {("extra", "10001", None)}


def test_an_emptied_column_is_excluded_and_sampled(project_copy: Path) -> None:
    def empty(table: pa.Table) -> pa.Table:
        index = table.schema.get_field_index("ratio")
        return table.set_column(
            index, table.schema.field(index), pa.nulls(table.num_rows, pa.float64())
        )

    _rewrite_each(project_copy, empty)
    entry = _align(project_copy)
    assert entry["status"] == "mismatch"
    assert [c["column"] for c in entry["columns_excluded"]] == ["ratio"]
    assert "nulls" in entry["columns_excluded"][0]["reason"]
    found = _differences(entry)
    assert found and all(kind == "changed" and column == "ratio" for kind, _, column in found)
    assert entry["levels"]["values"], "the other columns still match value for value"


def test_a_missing_period_is_excluded_and_its_rows_named(project_copy: Path) -> None:
    files = _lake_files(project_copy)
    victim = files[0]
    removed = set(pq.read_table(victim).column("id").to_pylist())
    pq.write_table(pq.read_table(victim).slice(0, 0), victim)
    entry = _align(project_copy)
    assert entry["status"] == "mismatch"
    assert len(entry["periods_excluded"]) == 1 and entry["periods_excluded"][0]["target_rows"] == 0
    found = _differences(entry)
    assert found and all(kind == "missing" and int(key) in removed for kind, key, _ in found)
    assert entry["levels"]["values"], "the remaining periods still match value for value"
