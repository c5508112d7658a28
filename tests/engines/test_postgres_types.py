"""PostgreSQL types end to end: every supported type survives analyze -> upload -> compare -> align,
its canonical text agrees across PostgreSQL, the Python reference and DuckDB, and a corrupted
lake is caught.

Every test works in one schema per session (`lakeshift_t_<hex>`), dropped at the end.
"""

from __future__ import annotations

import json
import math
import random
import struct
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from lakeshift.artifacts import (
    ALIGNMENT_JSON,
    ANALYSIS_JSON,
    ANALYSIS_PICKLE,
    stats_comparison_name,
)
from lakeshift.engines.base import Column
from lakeshift.engines.connect import connect_lake_engine, open_lake
from lakeshift.engines.duckdb import DuckDBEngine
from lakeshift.engines.postgres import PostgresEngine, connect
from lakeshift.inventory import Period
from lakeshift.lake.catalog import LocalCatalog
from lakeshift.lake.storage import LakeStorage
from lakeshift.project import Project, load_project
from lakeshift.steps.align import align
from lakeshift.steps.analyze import analyze
from lakeshift.steps.compare import compare
from lakeshift.steps.slicing import PartitionStrategy
from lakeshift.steps.upload import upload
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import canonical_float, canonical_value

pytestmark = pytest.mark.postgres

SAO_PAULO = "America/Sao_Paulo"
BIG_TEXT = "x" * 1_100_000 + "é|\\"
N38_MAX = "9999999999999999999999999999.9999999999"

# One row per edge case; columns: see _MATRIX_DDL. Text-rendered types are given as literals.
MATRIX_ROWS: list[tuple[Any, ...]] = [
    (
        1,
        "1900-01-15",
        -32768,
        -2147483648,
        -(2**63),
        "-" + N38_MAX,
        "1.5",
        "12300",
        "1.1",
        "0.1",
        True,
        "",
        "ab",
        "plain",
        b"\x00\xff",
        "0001-01-01",
        "0001-01-01 00:00:00",
        "1985-01-01 00:00:00.123456",
        "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
        '{"b":1,  "a":[1,2]}',
        '{"b":1,  "a":[1,2]}',
        "happy",
        "1 year 2 months 3 days 04:05:06.789",
        "{1,NULL,3}",
        '{"a,b","c\\"d|e",NULL}',
        "(1,2)",
    ),
    (
        2,
        "1969-12-31",
        32767,
        2147483647,
        2**63 - 1,
        N38_MAX,
        "-0.0000000001",
        "-9999900",
        "-0",
        "-0",
        False,
        None,
        " a",
        "NULL",
        b"",
        "1969-12-31",
        "1969-12-31 23:59:59.999999",
        "2024-02-10 12:00:00",
        "00000000-0000-0000-0000-000000000000",
        "[]",
        "[]",
        "sad",
        "-1 days",
        "{}",
        "{}",
        "(0,0)",
    ),
    (
        3,
        "2038-01-19",
        0,
        0,
        0,
        "0.0000000001",
        "2.500000000000",
        None,
        "NaN",
        "NaN",
        None,
        "NULL",
        "a|b\\c",
        "😀𝄞 4-byte",
        b"|\\",
        "2038-01-19",
        "2038-01-19 03:14:08.000001",
        "2050-06-01 23:59:59.999999",
        None,
        None,
        None,
        None,
        "PT0S",
        "{{1,2},{3,4}}",
        None,
        None,
    ),
    (
        4,
        "2100-02-28",
        None,
        None,
        None,
        "-0.00",
        "-12345678901234567890.1234567890",
        "0",
        "Infinity",
        "Infinity",
        True,
        "tab\tnew\nline",
        None,
        "ünï",
        None,
        "2262-04-12",
        "2262-04-12 23:47:16.854776",
        "1969-12-31 21:00:00",
        None,
        '{"k": "v|\\\\"}',
        '{"k": "v|\\\\"}',
        "happy",
        "P1Y",
        "{-5}",
        "{a}",
        None,
    ),
    (
        5,
        None,
        1,
        1,
        1,
        None,
        None,
        None,
        "-Infinity",
        "-Infinity",
        None,
        BIG_TEXT,
        "     ",
        None,
        b"\x80" * 3,
        "9999-12-31",
        "9999-12-31 23:59:59.999999",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ),
    (
        6,
        "2024-02-29",
        -1,
        -1,
        -1,
        "123.4560000000",
        "99999999999999999999999999.9999999999",
        "100",
        "3.4028235e38",
        "5e-324",
        False,
        "é",
        "zz",
        "",
        b"\x00",
        "1999-12-31",
        "2000-02-29 12:00:00.5",
        "2024-10-27 01:30:00",
        "9F3C1B0E-7A6D-4C2B-8E1F-0A9B8C7D6E5F",
        "1.0e2",
        "1.0e2",
        "sad",
        "P-1Y-2M",
        "{0}",
        '{"\\\\"}',
        None,
    ),
    (
        7,
        "1900-01-01",
        7,
        7,
        7,
        "0.5000000000",
        "0.1",
        "-100",
        "1e-45",
        "1.7976931348623157e308",
        True,
        "\\N",
        "\\N",
        "\\",
        b"\\N",
        "1970-01-01",
        "1970-01-01 00:00:00",
        "1970-01-01 00:00:00",
        None,
        "null",
        "null",
        None,
        "PT0.000001S",
        "{NULL}",
        "{NULL}",
        None,
    ),
    (
        8,
        "2100-12-31",
        8,
        8,
        8,
        "-0.0000000001",
        "0.0000000000",
        "-0",
        "-1.5",
        "-2.5e-310",
        False,
        "|",
        "|",
        "||",
        b"\xff" * 5,
        "2100-12-31",
        "2100-12-31 23:59:59.999999",
        "2100-12-31 22:00:00",
        None,
        '"s"',
        '"s"',
        "happy",
        "PT-0.5S",
        "{1}",
        '{""}',
        None,
    ),
    (
        9,
        "2024-02-01",
        9,
        9,
        9,
        "1",
        "1",
        "9999900",
        "0.1",
        "0.3333333333333333",
        True,
        "tail ",
        "x",
        "y",
        b"\x01",
        "2024-02-01",
        "2024-02-01 00:00:00",
        "2024-01-31 22:30:00",
        None,
        "{}",
        "{}",
        "sad",
        "P2D",
        "{2}",
        '{"NULL"}',
        None,
    ),
    (
        10,
        "2024-03-01",
        10,
        10,
        10,
        "-1",
        "-1",
        "200",
        "1",
        "9.999999999999995",
        False,
        "z",
        "x",
        "y",
        b"\x02",
        "2024-03-01",
        "2024-03-01 00:00:00",
        "2024-03-01 01:00:00",
        None,
        "1",
        "1",
        "happy",
        "P3D",
        "{3}",
        "{b}",
        None,
    ),
]

_MATRIX_DDL = """
CREATE TYPE {s}.mood AS ENUM ('sad', 'happy');
CREATE TABLE {s}.matrix (
    id integer PRIMARY KEY, created date, i2 smallint, i4 integer, i8 bigint,
    n38 numeric(38,10), n numeric, nneg numeric(5,-2), r real, d double precision,
    b boolean, t text, c char(5), v varchar(20), by bytea, dt date, ts timestamp,
    tz timestamptz, uu uuid, j json, jb jsonb, m {s}.mood, iv interval, ia integer[],
    ta text[], p point, tc text COLLATE "und-x-icu"
)"""
MATRIX_INSERT = "INSERT INTO {s}.matrix VALUES (" + ", ".join(["%s"] * 27) + ")"
# ICU orders a < b < B < Z; code points (the lake) order B < Z < a < b: MIN/MAX must follow them.
ICU_TEXTS = ["a", "B", "Z", "b"]


@pytest.fixture(scope="module")
def schema(postgres_url: str) -> Iterator[str]:
    """A fresh schema holding the matrix (its timestamptz values entered in São Paulo time)."""
    name = f"lakeshift_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
        try:
            admin.execute(_MATRIX_DDL.format(s=name))
            admin.execute(f"SET TimeZone = '{SAO_PAULO}'")
            rows = [(*row, ICU_TEXTS[i] if i < 4 else None) for i, row in enumerate(MATRIX_ROWS)]
            with admin.cursor() as cursor:
                cursor.executemany(MATRIX_INSERT.format(s=name), rows)
            yield name
        finally:
            admin.execute(f"DROP SCHEMA {name} CASCADE")


def _run(meta: Path, strategy: PartitionStrategy = PartitionStrategy.DATE) -> Project:
    project = load_project(meta)
    assert {o.status for o in analyze(project)} == {"not_migrated"}
    uploaded = upload(project, project.output / ANALYSIS_PICKLE, strategy)
    assert [o.status for o in uploaded] == ["uploaded"] * len(uploaded), [
        o.detail for o in uploaded
    ]
    return project


def _lake_table(project: Project, table: str) -> pa.Table:
    storage = open_lake(project.migration)
    entry = LocalCatalog(storage).get(table)
    assert entry is not None
    files = [f for folder in entry.data_locations() for f in storage.list_files(folder)]
    return pa.concat_tables(pq.read_table(f) for f in files).sort_by("id")


def _matrix_project(make_project: Callable[..., Path], url: str, schema: str) -> Path:
    table = f"{schema}.matrix"
    return make_project(
        url,
        [{"source_table": table, "key_columns": "id", "date_column": "created"}],
        mappings={table: {"p": None}},  # point has no exact logical type: dropped
    )


def test_type_matrix_round_trips_and_aligns(
    postgres_url: str, schema: str, make_project: Callable[..., Path]
) -> None:
    project = _run(_matrix_project(make_project, postgres_url, schema))
    assert [o.status for o in compare(project)] == ["match"]
    assert [o.status for o in align(project)] == ["match"]

    output = project.output
    analysis = json.loads((output / ANALYSIS_JSON).read_text())["tables"][0]
    assert analysis["status"] == "not_migrated" and analysis["source_rows"] == len(MATRIX_ROWS)
    assert analysis["dropped_columns"] == ["p"]
    stats = json.loads((output / stats_comparison_name("matrix")).read_text())
    assert stats["status"] == "match" and stats["rows"] == {"source": 10, "target": 10}
    assert all(c["match"] for c in stats["columns"]) and len(stats["columns"]) == 26
    icu = next(c for c in stats["columns"] if c["column"] == "tc")["source"]
    assert (icu["min"], icu["max"]) == ("B", "b")  # code point order, not the column's collation
    result = json.loads((output / ALIGNMENT_JSON).read_text())["tables"][0]
    assert result["status"] == "match" and all(result["levels"].values())
    assert result["values"]["matched"] == 10 and result["columns_excluded"] == []
    assert len(result["columns_compared"]) == 26
    upload_file = next(output.glob("upload_metadata_*.json"))
    snapshot = json.loads(upload_file.read_text())["tables"][0]["snapshot"]
    assert snapshot["kind"] == "repeatable_read" and snapshot["token"]

    # The lake holds the exact values, in the documented forms.
    lake = _lake_table(project, "matrix")
    rows = {r["id"]: r for r in lake.to_pylist()}
    assert lake.schema.field("n38").type == pa.decimal128(38, 10)
    assert lake.schema.field("n").type == pa.decimal128(38, 10)  # number_without_precision
    assert lake.schema.field("nneg").type == pa.decimal128(7, 0)
    assert lake.schema.field("tz").type == pa.timestamp("us", tz="UTC")
    assert rows[1]["i8"] == -(2**63) and rows[2]["i8"] == 2**63 - 1
    assert rows[2]["n38"] == Decimal(N38_MAX)
    assert rows[4]["n"] == Decimal("-12345678901234567890.1234567890")
    assert rows[1]["r"] == struct.unpack("f", struct.pack("f", 1.1))[0]
    assert math.copysign(1, rows[2]["d"]) == -1 and math.isnan(rows[3]["d"])
    assert rows[5]["t"] == BIG_TEXT and rows[3]["v"] == "😀𝄞 4-byte"
    assert rows[1]["t"] == "" and rows[2]["t"] is None and rows[3]["t"] == "NULL"
    assert rows[1]["c"] == "ab   " and rows[5]["c"] == "     "  # char(n) keeps its padding
    assert rows[1]["uu"] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    assert rows[1]["j"] == '{"b":1,  "a":[1,2]}' and rows[1]["jb"] == '{"a": [1, 2], "b": 1}'
    assert rows[1]["iv"] == "P1Y2M3DT4H5M6.789S" and rows[2]["iv"] == "P-1D"
    assert rows[1]["ia"] == "{1,NULL,3}" and rows[1]["ta"] == '{"a,b","c\\"d|e",NULL}'
    assert rows[1]["m"] == "happy"
    local = datetime(1985, 1, 1, 0, 0, 0, 123456, tzinfo=ZoneInfo(SAO_PAULO))
    assert rows[1]["tz"] == local.astimezone(UTC)
    assert rows[2]["tz"] == datetime(2024, 2, 10, 15, 0, tzinfo=UTC)


def test_timestamptz_periods_are_utc(
    postgres_url: str, schema: str, make_project: Callable[..., Path]
) -> None:
    """2024-01-31 22:30 in São Paulo is February in UTC: slice and lake partition say so."""
    table = f"{schema}.matrix"
    meta = make_project(
        postgres_url,
        [{"source_table": table, "key_columns": "id", "date_column": "tz"}],
        mappings={table: {"p": None}},
    )
    project = _run(meta)
    assert [o.status for o in align(project)] == ["match"]
    entry = LocalCatalog(open_lake(project.migration)).get("matrix")
    assert entry is not None
    storage = open_lake(project.migration)
    february = pa.concat_tables(
        pq.read_table(f) for f in storage.list_files(entry.partitions["_period=2024-02"])
    )
    assert sorted(february.column("id").to_pylist()) == [2, 9]


def _canonical_rows(engine: Any, table_sql: str, columns: list[Column]) -> dict[int, list[Any]]:
    texts = ", ".join(engine.column_canonical_sql(c, c.logical) for c in columns)
    return {row[0]: list(row[1:]) for row in engine.query(f'SELECT "id", {texts} FROM {table_sql}')}


def test_canonical_text_agrees_across_postgres_python_and_duckdb(
    postgres_url: str, schema: str, make_project: Callable[..., Path]
) -> None:
    project = _run(_matrix_project(make_project, postgres_url, schema))
    source = connect(project.source.url, project.migration)
    lake = connect_lake_engine(open_lake(project.migration), project.migration)
    try:
        columns = [c for c in source.columns(f"{schema}.matrix") if c.name != "p"]
        ours = _canonical_rows(source, source.table_sql(f"{schema}.matrix"), columns)
        theirs = _canonical_rows(lake, lake.table_sql("matrix"), columns)
    finally:
        source.close()
        lake.close()
    values = _lake_table(project, "matrix").to_pylist()
    reference = {r["id"]: [canonical_value(r[c.name], c.logical) for c in columns] for r in values}
    for key in reference:
        for index, column in enumerate(columns):
            where = f"id={key} {column.name}"
            assert ours[key][index] == reference[key][index], where
            assert theirs[key][index] == reference[key][index], where
    # A few texts spelled out, so the reference itself is pinned too.
    names = [c.name for c in columns]

    def text(key: int, name: str) -> str | None:
        value: str | None = ours[key][names.index(name)]
        return value

    assert text(2, "n38") == N38_MAX and text(4, "n38") == "0.0000000000"
    assert text(2, "r") == "0" and text(3, "d") == "NaN" and text(5, "d") == "fff0000000000000"
    assert text(1, "d") == "3fb999999999999a" and text(6, "d") == "0000000000000001"
    assert text(8, "d") == "80002e055c9a3f6c"  # a subnormal
    assert text(10, "d") == "4023fffffffffffd"
    assert text(1, "r") == "3ff19999a0000000"  # the single 1.1, widened exactly
    assert text(1, "b") == "1" and text(2, "b") == "0"
    assert text(3, "t") == "NULL" and text(2, "t") is None and text(1, "t") == ""
    assert text(3, "c") == "a\\|b\\\\c" and text(1, "by") == "00ff"
    assert text(1, "dt") == "0001-01-01" and text(5, "ts") == "9999-12-31 23:59:59.999999"
    assert text(9, "tz") == "2024-02-01 01:30:00.000000"
    assert text(1, "ta") == '{"a,b","c\\\\"d\\|e",NULL}'


@contextmanager
def _scratch_table(
    postgres_url: str, ddl: list[str], insert: str, values: list[Any], drops: Sequence[str] = ()
) -> Iterator[tuple[PostgresEngine, dict[str, Column], str]]:
    """A fresh table made by `ddl` ({t} is its name) and filled by `insert` from
    `values`, with an engine and its columns; dropped after, then whatever `drops` name."""
    table = f"lakeshift_scratch_{uuid.uuid4().hex[:8]}"
    engine = PostgresEngine(postgres_url, LogicalType(Kind.DECIMAL, 38, 10))
    try:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            for statement in ddl:
                admin.execute(statement.format(t=table))
            admin.execute(insert.format(t=table), [values])
        yield engine, {c.name: c for c in engine.columns(f"public.{table}")}, table
    finally:
        engine.close()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in drops:
                admin.execute(statement.format(t=table))


def test_text_columns_skip_concat_yet_render_as_every_other_string(postgres_url: str) -> None:
    """text and varchar columns are escaped as they are; char(n), a domain and arrays of text
    keep `concat` (a cast would trim char(n)'s padding; `replace` takes no array): all give the
    canonical text of what the lake holds, and so does a nondeterministic collation, whose text
    `replace` would refuse to search."""
    values = [None, "", "NULL", "a|b", "a\\b", "\\|", "|", "tail  ", "😀", "Ab"]
    ddl = [
        "CREATE DOMAIN {t}_d AS text",
        "CREATE COLLATION {t}_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
        "CREATE TABLE {t} (id int, t text, v varchar(10), c char(6), d {t}_d, "
        "n text COLLATE {t}_ci, va varchar(10)[], ta text[])",
    ]
    insert = (
        "INSERT INTO {t} SELECT i, x, x, x, x, x, CASE WHEN x IS NOT NULL THEN ARRAY[x, NULL] END, "
        "CASE WHEN x IS NOT NULL THEN ARRAY[x] END FROM unnest(%s::text[]) WITH ORDINALITY AS u(x, i)"
    )
    drops = ["DROP DOMAIN IF EXISTS {t}_d", "DROP COLLATION IF EXISTS {t}_ci"]
    with _scratch_table(postgres_url, ddl, insert, values, drops) as (engine, columns, table):
        rendered = {
            name: engine.column_canonical_sql(columns[name], columns[name].logical)
            for name in ["t", "v", "c", "d", "n", "va", "ta"]
        }
        assert "concat" not in rendered["t"] and "concat" not in rendered["v"]
        assert all("concat" in rendered[name] for name in ("c", "d", "va", "ta"))
        rows = engine.query(
            f"SELECT {', '.join(rendered.values())}, concat(va), concat(ta) "
            f"FROM {table} ORDER BY id"
        )
    string = LogicalType(Kind.STRING)
    for value, (t, v, c, d, n, va, ta, va_text, ta_text) in zip(values, rows, strict=True):
        expected = canonical_value(value, string)
        assert (t, v, d, n) == (expected,) * 4, value
        padded = None if value is None else value.ljust(6)
        assert c == canonical_value(padded, string), value
        arrays = (None, None) if value is None else (va_text, ta_text)
        assert (va, ta) == tuple(canonical_value(a, string) for a in arrays), value
    assert rows[3][0] == "a\\|b" and rows[4][0] == "a\\\\b" and rows[0][0] is None
    assert rows[3][6] == "{a\\|b}"  # the array's own text, escaped


def _decimal_texts(
    postgres_url: str, declared: str, fill: str, values: list[str | None]
) -> tuple[str, str, list[tuple[Any, ...]]]:
    """Columns `n numeric` holding `values` and `e {declared}` holding `fill` of each (`x`),
    rendered at the lake's decimal(38,10): both SQL texts and the rows, in order."""
    ddl = [f"CREATE TABLE {{t}} (id int, n numeric, e {declared})"]
    insert = (
        f"INSERT INTO {{t}} SELECT i, x, {fill} "
        "FROM unnest(%s::numeric[]) WITH ORDINALITY AS u(x, i)"
    )
    with _scratch_table(postgres_url, ddl, insert, values) as (engine, columns, table):
        decimal = LogicalType(Kind.DECIMAL, 38, 10)
        loose = engine.column_canonical_sql(columns["n"], decimal)
        other = engine.column_canonical_sql(columns["e"], decimal)
        rows = engine.query(f"SELECT {loose}, {other} FROM {table} ORDER BY id")
    return loose, other, rows


def test_a_source_decimal_with_more_decimals_than_the_lake_is_never_rounded_into_a_match(
    postgres_url: str,
) -> None:
    """The lake keeps an unconstrained numeric at scale 10 and the upload refuses more
    decimals; a source value changed afterwards to 2.00000000001 must not render as the
    lake's 2.0000000000. A declared scale that fits needs no test (and costs none)."""
    values = ["2.00000000001", "3", None, "2.000000000000", "-1.5", "-0.00000000004"]
    loose, fitting, rows = _decimal_texts(postgres_url, "numeric(12,2)", "round(x, 2)", values)
    assert "CASE" in loose and "CASE" not in fitting
    assert [r[0] for r in rows] == [
        "2.00000000001",
        "3.0000000000",
        None,
        "2.0000000000",
        "-1.5000000000",
        "-0.00000000004",
    ]
    assert [r[1] for r in rows][:2] == ["2.0000000000", "3.0000000000"]


def test_a_source_decimal_the_lake_cannot_hold_renders_as_itself_not_an_error(
    postgres_url: str,
) -> None:
    """A source changed after the upload may hold what the lake's decimal(38,10) cannot (31
    integer digits, Infinity): compare and align must see a difference, not fail the table on
    `numeric field overflow`. Declared as the lake keeps it, a column is its own text."""
    values = ["1e30", "Infinity", "-2.5", None]
    fill = "CASE WHEN abs(x) < 1e20 THEN x END"
    _, exact, rows = _decimal_texts(postgres_url, "numeric(38,10)", fill, values)
    assert exact == 'CAST("e" AS text)'
    assert [r[0] for r in rows] == [
        "1000000000000000000000000000000.0000000000",
        "Infinity",
        "-2.5000000000",
        None,
    ]
    assert [r[1] for r in rows] == [None, None, "-2.5000000000", None]


def _random_doubles(count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    special = [
        0.1,
        1 / 3,
        2.5,
        0.5,
        1e-5,
        1e22,
        5e-324,
        -5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        -1.7976931348623157e308,
        9.999999999999995,
        0.30000000000000004,
        123456789012345678.0,
        1e15 + 0.5,
        -0.0,
        0.0,
        math.inf,
        -math.inf,
        math.nan,
        1.0000000000000049,
        1.0000000000000051,
    ]
    bits = [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(count)]
    decimals = [round(rng.uniform(-1e6, 1e6), rng.randrange(10)) for _ in range(count)]
    return special + bits + decimals


def test_float_canonical_text_matches_python_and_duckdb_on_random_values(
    postgres_url: str, tmp_path: Path
) -> None:
    """Random bit patterns (subnormals, huge exponents, negatives) and short decimals."""
    doubles = _random_doubles(3000, seed=7)
    singles = [
        struct.unpack("f", struct.pack("I", random.Random(8).getrandbits(32)))[0]
        for _ in range(1000)
    ]
    logical = LogicalType(Kind.FLOAT)
    engine = PostgresEngine(postgres_url, LogicalType(Kind.DECIMAL, 38, 10))
    duck = DuckDBEngine(LocalCatalog(LakeStorage.local(tmp_path, "floats")))
    try:
        for values, pg_type in ((doubles, "float8"), (singles, "float4")):
            pg_sql = engine.canonical_sql("x", logical)
            ours = engine.query(
                f"SELECT {pg_sql} FROM unnest(%s::{pg_type}[]) WITH ORDINALITY AS u(x, i) "
                "ORDER BY i",
                [values],
            )
            duck_sql = duck.canonical_sql("x", logical)
            theirs = duck.query(
                f"SELECT {duck_sql} FROM (SELECT unnest($1::DOUBLE[]) AS x)", [values]
            )
            expected = [canonical_float(v) for v in values]
            assert [r[0] for r in ours] == expected
            assert [r[0] for r in theirs] == expected
    finally:
        engine.close()
        duck.close()


def engine_texts(
    url: str, logical: LogicalType, precision: str, literals: list[str]
) -> tuple[str, ...]:
    """PostgreSQL's canonical texts of timestamp literals."""
    engine = PostgresEngine(url, LogicalType(Kind.DECIMAL, 38, 10))
    engine.compare_timestamps_at(precision)
    casts = [f"CAST('{literal}' AS timestamp)" for literal in literals]
    try:
        [row] = engine.query("SELECT " + ", ".join(engine.canonical_sql(c, logical) for c in casts))
    finally:
        engine.close()
    return tuple(row)


def _random_datetimes(count: int, seed: int) -> list[datetime]:
    """Years 1 to 9999; fractions of every length, zero and with trailing zeros."""
    rng = random.Random(seed)
    fixed = [
        datetime(1, 1, 1),
        datetime(999, 12, 31, 23, 59, 59, 999999),
        datetime(1970, 1, 1),
        datetime(2024, 2, 29, 12, 0, 0, 500000),
        datetime(2024, 2, 29, 12, 0, 0, 10),
        datetime(9999, 12, 31, 23, 59, 59, 999999),
    ]
    drawn = []
    for _ in range(count):
        micro = rng.choice(
            [0, rng.randrange(10**6), rng.randrange(10) * 10**5, rng.randrange(1000) * 10**3]
        )
        seconds = rng.randrange(int((datetime(9999, 12, 31) - datetime(1, 1, 1)).total_seconds()))
        drawn.append(datetime(1, 1, 1) + timedelta(seconds=seconds, microseconds=micro))
    return fixed + drawn


@pytest.mark.parametrize("precision", ["microsecond", "millisecond"])
def test_timestamp_and_date_text_match_python_and_to_char_on_random_values(
    postgres_url: str, precision: str
) -> None:
    """The type's own output with the fraction padded back equals the reference, and the
    `to_char` it replaced, for naive and zoned timestamps, and for dates."""
    values = _random_datetimes(3000, seed=11)
    engine = PostgresEngine(postgres_url, LogicalType(Kind.DECIMAL, 38, 10))
    engine.compare_timestamps_at(precision)
    naive, zoned = LogicalType(Kind.TIMESTAMP), LogicalType(Kind.TIMESTAMP, tz="UTC")
    try:
        rows = engine.query(
            f"SELECT {engine.canonical_sql('x', naive)}, "
            f"{engine.canonical_sql('z', zoned)}, "
            f"to_char({engine.at_common_precision('x')}, 'YYYY-MM-DD HH24:MI:SS.US'), "
            f"{engine.canonical_sql('CAST(x AS date)', LogicalType(Kind.DATE))} "
            "FROM unnest(%s::timestamp[]) WITH ORDINALITY AS u(x, i), "
            "LATERAL (SELECT (x AT TIME ZONE 'Asia/Kolkata') AS z) zone ORDER BY i",
            [values],
        )
    finally:
        engine.close()
    bc, ad = engine_texts(
        postgres_url,
        naive,
        precision,
        ["0001-01-01 00:00:00.123456 BC", "0001-01-01 00:00:00.123456"],
    )
    assert bc != ad and "BC" in bc, (bc, ad)  # to_char printed both as year 0001
    for value, (text, zoned_text, old, day) in zip(values, rows, strict=True):
        assert day == value.date().isoformat(), value
        expected = canonical_value(value, naive, precision)
        assert (text, old) == (expected, expected), value
        if 1 < value.year < 9999:  # in UTC, Python's datetime holds years 1 to 9999 only
            kolkata = value.replace(tzinfo=ZoneInfo("Asia/Kolkata"))
            assert zoned_text == canonical_value(kolkata, zoned, precision), value


def test_canonical_fragments_ignore_the_session_time_zone(postgres_url: str, schema: str) -> None:
    """timestamptz renders in UTC even in a session whose TimeZone is São Paulo."""
    engine = PostgresEngine(postgres_url, LogicalType(Kind.DECIMAL, 38, 10))
    columns = {c.name: c for c in engine.columns(f"{schema}.matrix")}
    text = engine.canonical_sql('"tz"', columns["tz"].logical)
    period = engine.period_sql('"tz"', columns["tz"].logical, Period.DAY)
    engine.close()
    with psycopg.connect(postgres_url, autocommit=True) as session:
        session.execute(f"SET TimeZone = '{SAO_PAULO}'")
        row = session.execute(
            f"SELECT {text}, {period} FROM {schema}.matrix WHERE id = 9"
        ).fetchone()
    assert row == ("2024-02-01 01:30:00.000000", "2024-02-01")


# --- corruption ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def orders(postgres_url: str, schema: str) -> str:
    table = f"{schema}.orders"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(
            f"CREATE TABLE {table} (id bigint PRIMARY KEY, amount numeric(12,2), note text, "
            "placed timestamptz)"
        )
        admin.execute(
            f"INSERT INTO {table} SELECT g, g * 1.25, 'note ' || g, "
            "TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 day' "
            "FROM generate_series(1, 90) g"
        )
    return table


def _rewrite(storage: LakeStorage, path: str, table: pa.Table) -> None:
    with storage.fs.open_output_stream(path) as stream:
        pq.write_table(table, stream)


def test_align_names_a_changed_value_and_a_dropped_row(
    postgres_url: str, orders: str, make_project: Callable[..., Path]
) -> None:
    meta = make_project(postgres_url, [{"source_table": orders, "date_column": "placed"}])
    project = _run(meta)
    storage = open_lake(project.migration)
    entry = LocalCatalog(storage).get("orders")
    assert entry is not None
    # January: one note changed; February: one row dropped.
    path = storage.list_files(entry.partitions["_period=2024-01"])[0]
    data = pq.read_table(path)
    notes = data.column("note").to_pylist()
    ids = data.column("id").to_pylist()
    notes[ids.index(7)] = "note 7 (corrupted)"
    index = data.schema.get_field_index("note")
    _rewrite(storage, path, data.set_column(index, "note", pa.array(notes, pa.string())))
    path = storage.list_files(entry.partitions["_period=2024-02"])[0]
    data = pq.read_table(path)
    _rewrite(storage, path, data.filter(pc.not_equal(data.column("id"), 40)))

    assert [o.status for o in align(project)] == ["mismatch"]
    result = json.loads((project.output / ALIGNMENT_JSON).read_text())["tables"][0]
    assert result["status"] == "mismatch" and result["key_columns"] == ["id"]
    excluded = {p["period"]: p for p in result["periods_excluded"]}
    assert set(excluded) == {"2024-02"}
    assert excluded["2024-02"]["source_rows"] == 29 and excluded["2024-02"]["target_rows"] == 28
    missing = [s for s in excluded["2024-02"]["localized"]["samples"] if s["kind"] == "missing"]
    assert missing == [{"kind": "missing", "period": "2024-02", "key": {"id": "40"}, "rows": 1}]
    changed = _changed_samples(result)
    assert [(s["key"], [c["column"] for c in s["columns"]]) for s in changed] == [
        ({"id": "7"}, ["note"])
    ]
    assert changed[0]["columns"][0]["target"] == "note 7 (corrupted)"


def _changed_samples(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Changed-row samples, wherever align reported them (values diff or an excluded column)."""
    samples = [s for s in result["values"]["samples"] if s["kind"] == "changed"]
    for column in result["columns_excluded"]:
        samples += [s for s in column["localized"]["samples"] if s["kind"] == "changed"]
    return [{**s, "columns": [c for c in s["columns"] if c["column"] != "id"]} for s in samples]
