"""Corruption injection shared by every lake: sources, the lake's files, and the suite itself.

A table holding every logical type, in SQLite, PostgreSQL and MariaDB (the same rows in each
engine's own types), is uploaded once into a lake; each test corrupts the lake's Parquet files in
one known way, runs `align`, and checks that the results name exactly the injected difference
(table, period, key, column) and nothing else. `CorruptionSuite` holds the tests; a test module
subclasses it per lake kind and provides two fixtures: `project_copy` (a project folder whose lake
the test may change) and `lake` (the `LakeFiles` of that lake, restored after the test).
"""

from __future__ import annotations

import io
import json
import math
import random
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

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
TARGET = "items"


def source_rows() -> list[tuple[Any, ...]]:
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


def period_of(key: int) -> str:
    """The month of `created_at` (the table's date column) of the source row with this key."""
    return source_rows()[key - 1][5][:7]


# --- sources -------------------------------------------------------------------------------------
def sqlite_source(folder: Path) -> tuple[str, str]:
    connection = sqlite3.connect(folder / "source.db")
    connection.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, price NUMERIC(12,2), ratio REAL, label TEXT, "
        "note TEXT, created_at TIMESTAMP, created_tz TIMESTAMPTZ, day DATE, flag BOOLEAN, payload BLOB)"
    )
    connection.executemany("INSERT INTO items VALUES (?,?,?,?,?,?,?,?,?,?)", source_rows())
    connection.commit()
    connection.close()
    return "sqlite:///source.db", "main.items"


def postgres_source(url: str, schema: str) -> tuple[str, str]:
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
            for i, p, r, label, note, at, tz, day, flag, payload in source_rows()
        ]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {schema}.items VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows
            )
    return url, f"{schema}.items"


def drop_postgres_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _mariadb() -> Any:
    import pymysql

    return pymysql.connect(
        host="127.0.0.1", port=3306, user="root", database="test", autocommit=True
    )


def mariadb_source(url: str, table: str) -> tuple[str, str]:
    """The same rows in MariaDB's own types (BOOLEAN is TINYINT(1); TIMESTAMP is UTC)."""
    connection = _mariadb()
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
            for i, p, r, label, note, at, tz, day, flag, payload in source_rows()
        ]
        cursor.executemany(f"INSERT INTO {table} VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", rows)
    connection.close()
    return url, f"test.{table}"


def drop_mariadb_table(table: str) -> None:
    connection = _mariadb()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    connection.close()


# --- projects ------------------------------------------------------------------------------------
def write_project(folder: Path, url: str, table: str) -> Path:
    """The four config files over `table`, with a local lake `lake/` (point it elsewhere after)."""
    (folder / "input_tables.csv").write_text(
        "source_table,target_table,date_column,key_columns,period\n"
        f"{table},{TARGET},created_at,id,month\n",
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
    return folder / "config_meta.cfg"


def analyze_and_upload(folder: Path) -> None:
    project = load_project(folder / "config_meta.cfg")
    analyze(project)
    [outcome] = upload(project, project.output / ANALYSIS_PICKLE)
    assert outcome.status == "uploaded", outcome.detail


# --- the lake's files ----------------------------------------------------------------------------
class LakeFiles(Protocol):
    """The Parquet files of the table in a lake, read and rewritten in place."""

    def names(self) -> list[str]: ...

    def read(self, name: str) -> pa.Table: ...

    def write(self, name: str, table: pa.Table) -> None: ...


class LocalLakeFiles:
    def __init__(self, folder: Path):
        self.root = folder / "lake" / "lakeshift" / TARGET

    def names(self) -> list[str]:
        return sorted(str(p) for p in self.root.rglob("*.parquet"))

    def read(self, name: str) -> pa.Table:
        return pq.read_table(name)

    def write(self, name: str, table: pa.Table) -> None:
        pq.write_table(table, name)


class S3LakeFiles:
    """Objects of the table on S3, through a client straight to the store (not lakeshift's code).

    `snapshot()` keeps every object's bytes; `restore()` puts them back and deletes any new key.
    """

    def __init__(self, client: Any, bucket: str):
        self.client, self.bucket = client, bucket
        self.saved: dict[str, bytes] = {}

    def _keys(self) -> list[str]:
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            keys += [item["Key"] for item in page.get("Contents", [])]
        return keys

    def names(self) -> list[str]:
        return sorted(k for k in self._keys() if f"/{TARGET}/" in k and k.endswith(".parquet"))

    def read(self, name: str) -> pa.Table:
        body = self.client.get_object(Bucket=self.bucket, Key=name)["Body"].read()
        return pq.read_table(io.BytesIO(body))

    def write(self, name: str, table: pa.Table) -> None:
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        self.client.put_object(Bucket=self.bucket, Key=name, Body=buffer.getvalue())

    def snapshot(self) -> None:
        self.saved = {
            k: self.client.get_object(Bucket=self.bucket, Key=k)["Body"].read()
            for k in self._keys()
        }

    def restore(self) -> None:
        for key in set(self._keys()) - set(self.saved):
            self.client.delete_object(Bucket=self.bucket, Key=key)
        for key, body in self.saved.items():
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body)


def rewrite_each(lake: LakeFiles, change: Callable[[pa.Table], pa.Table]) -> None:
    for name in lake.names():
        lake.write(name, change(lake.read(name)))


def set_value(table: pa.Table, key: int, column: str, transform: Callable[[Any], Any]) -> pa.Table:
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


def run_align(folder: Path) -> dict[str, Any]:
    project = load_project(folder / "config_meta.cfg")
    align(project)
    content = json.loads((project.output / ALIGNMENT_JSON).read_text(encoding="utf-8"))
    [entry] = content["tables"]
    assert entry["target_table"] == TARGET
    return entry


Difference = tuple[str, str, str | None, str]  # kind, key, column (None: a whole row), period


def differences(entry: dict[str, Any]) -> set[Difference]:
    """Every (kind, key, column, period) the results name, from the values, columns and periods."""
    found: set[Difference] = set()
    sample_lists = [entry["values"]["samples"]]
    sample_lists += [
        c["localized"]["samples"] for c in entry["columns_excluded"] if "localized" in c
    ]
    sample_lists += [p["localized"]["samples"] for p in entry["periods_excluded"]]
    for samples in sample_lists:
        for sample in samples:
            key, period = sample["key"]["id"], sample["period"]
            if sample["kind"] == "changed":
                found |= {("changed", key, c["column"], period) for c in sample["columns"]}
            else:
                found.add((sample["kind"], key, None, period))
    return found


def changed(key: int, column: str) -> Difference:
    return ("changed", str(key), column, period_of(key))


def _filter_rows(keep: Callable[[pa.Table], pa.Array]) -> Callable[[pa.Table], pa.Table]:
    return lambda table: table.filter(keep(table))


def _next_double(value: float) -> float:
    return math.nextafter(value, math.inf)


CHANGES: list[tuple[str, str, Callable[[Any], Any], int]] = [
    ("one digit of a decimal", "price", lambda v: v + Decimal("0.01"), 10),
    ("one microsecond of a timestamp", "created_at", lambda v: v + timedelta(microseconds=1), 20),
    ("a time-zone shift", "created_tz", lambda v: v + timedelta(hours=1), 30),
    ("a trailing space", "label", lambda v: v + " ", 40),
    ("a float beyond the statistics' tolerance", "ratio", lambda v: v * (1 + 1e-12), 45),
    # Within every statistic's tolerance and the 16th significant digit: only exact floats see it.
    ("a float's last bit", "ratio", lambda v: _next_double(v), 49),
    ("a boolean flipped", "flag", lambda v: (not v) if isinstance(v, bool) else 1 - v, 46),
    ("one byte of a blob", "payload", lambda v: bytes([v[0] ^ 1]) + v[1:], 47),
    ("a date moved by a day", "day", lambda v: v + timedelta(days=1), 48),
]


class CorruptionSuite:
    """Every injection of the verification contract; subclasses provide the lake's fixtures."""

    def test_clean_upload_matches_at_every_level(self, project_copy: Path) -> None:
        entry = run_align(project_copy)
        assert entry["status"] == "match"
        assert all(entry["levels"].values())
        assert entry["rows_compared"] == ROWS
        assert entry["values"]["matched"] == ROWS
        assert differences(entry) == set()

    @pytest.mark.parametrize(
        ("what", "column", "transform", "key"), CHANGES, ids=[c[0] for c in CHANGES]
    )
    def test_a_changed_value_is_found_and_localized(
        self,
        project_copy: Path,
        lake: LakeFiles,
        what: str,
        column: str,
        transform: Callable[[Any], Any],
        key: int,
    ) -> None:
        rewrite_each(lake, lambda table: set_value(table, key, column, transform))
        entry = run_align(project_copy)
        assert entry["status"] == "mismatch", what
        assert differences(entry) == {changed(key, column)}, what

    def test_a_float_one_bit_off_shows_both_doubles(
        self, project_copy: Path, lake: LakeFiles
    ) -> None:
        rewrite_each(lake, lambda table: set_value(table, 49, "ratio", _next_double))
        entry = run_align(project_copy)
        [sample] = entry["values"]["samples"]
        [shown] = sample["columns"]
        source, target = float(shown["source"]), float(shown["target"])
        assert shown["column"] == "ratio" and target == _next_double(source), shown

    def test_null_for_empty_string_is_found(self, project_copy: Path, lake: LakeFiles) -> None:
        assert source_rows()[9][4] == ""
        rewrite_each(lake, lambda table: set_value(table, 10, "note", lambda v: None))
        entry = run_align(project_copy)
        assert entry["status"] == "mismatch"
        assert differences(entry) == {changed(10, "note")}

    def test_two_values_swapped_between_rows_are_found(
        self, project_copy: Path, lake: LakeFiles
    ) -> None:
        labels = {row[0]: row[3] for row in source_rows()}
        rewrite_each(lake, lambda t: set_value(t, 70, "label", lambda v: labels[71]))
        rewrite_each(lake, lambda t: set_value(t, 71, "label", lambda v: labels[70]))
        entry = run_align(project_copy)
        assert entry["levels"]["statistics"], "a swap keeps every statistic: values must catch it"
        assert entry["status"] == "mismatch"
        assert differences(entry) == {changed(70, "label"), changed(71, "label")}

    def test_a_dropped_row_is_found_in_its_period(
        self, project_copy: Path, lake: LakeFiles
    ) -> None:
        rewrite_each(lake, _filter_rows(lambda t: pc.not_equal(t.column("id"), 50)))
        entry = run_align(project_copy)
        assert entry["status"] == "mismatch"
        assert [
            (p["period"], p["source_rows"] - p["target_rows"]) for p in entry["periods_excluded"]
        ] == [(period_of(50), 1)]
        assert differences(entry) == {("missing", "50", None, period_of(50))}

    def test_a_duplicated_row_is_found(self, project_copy: Path, lake: LakeFiles) -> None:
        def duplicate(table: pa.Table) -> pa.Table:
            row = table.filter(pc.equal(table.column("id"), 60))
            return pa.concat_tables([table, row]) if row.num_rows else table

        rewrite_each(lake, duplicate)
        entry = run_align(project_copy)
        assert entry["status"] == "mismatch"
        assert differences(entry) == {("extra", "60", None, period_of(60))}

    def test_an_extra_row_is_found(self, project_copy: Path, lake: LakeFiles) -> None:
        name = lake.names()[0]
        table = lake.read(name)
        template = table.column("id")[0].as_py()
        extra = set_value(table.slice(0, 1), template, "id", lambda v: 10_001)
        lake.write(name, pa.concat_tables([table, extra]))
        entry = run_align(project_copy)
        assert entry["status"] == "mismatch"
        assert differences(entry) == {("extra", "10001", None, period_of(template))}

    def test_an_emptied_column_is_excluded_and_sampled(
        self, project_copy: Path, lake: LakeFiles
    ) -> None:
        def empty(table: pa.Table) -> pa.Table:
            index = table.schema.get_field_index("ratio")
            return table.set_column(
                index, table.schema.field(index), pa.nulls(table.num_rows, pa.float64())
            )

        rewrite_each(lake, empty)
        entry = run_align(project_copy)
        assert entry["status"] == "mismatch"
        assert [c["column"] for c in entry["columns_excluded"]] == ["ratio"]
        assert "nulls" in entry["columns_excluded"][0]["reason"]
        found = differences(entry)
        assert found and found == {changed(int(key), "ratio") for _, key, _, _ in found}
        assert entry["levels"]["values"], "the other columns still match value for value"

    def test_a_missing_period_is_excluded_and_its_rows_named(
        self, project_copy: Path, lake: LakeFiles
    ) -> None:
        victim = lake.names()[0]
        removed = lake.read(victim)
        periods = {period_of(key) for key in removed.column("id").to_pylist()}
        assert len(periods) == 1, "a file holds one period"
        lake.write(victim, removed.slice(0, 0))
        others = [n for n in lake.names() if n != victim]
        assert all(
            period_of(k) not in periods
            for n in others
            for k in lake.read(n).column("id").to_pylist()
        ), "the victim file is its period's only file"
        entry = run_align(project_copy)
        assert entry["status"] == "mismatch"
        assert [(p["period"], p["target_rows"]) for p in entry["periods_excluded"]] == [
            (periods.pop(), 0)
        ]
        found = differences(entry)
        named = {int(key) for _, key, _, _ in found}
        assert found == {("missing", str(k), None, period_of(k)) for k in named}
        assert named <= set(removed.column("id").to_pylist())
        assert entry["levels"]["values"], "the remaining periods still match value for value"
