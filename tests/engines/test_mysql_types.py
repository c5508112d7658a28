"""Every MySQL/MariaDB type, with its edge values, through analyze, upload, compare and align.

One table holds each native type with limits, zeros, NULLs, '' beside NULL, trailing spaces,
4-byte UTF-8, a 3.6 MB text, pre-1970 and post-2038 times and a TIMESTAMP written from a
'+05:30' session. It is uploaded once per module; the tests then prove that the lake holds the
exact values, that MySQL, Python and DuckDB render the same canonical text for each, that a clean
upload aligns, and that a changed value (a digit, a trailing space, a microsecond) is found.
"""

from __future__ import annotations

import json
import math
import random
import re
import shutil
import struct
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pymysql
import pytest

from lakeshift.artifacts import ALIGNMENT_JSON, ANALYSIS_PICKLE
from lakeshift.config import MigrationConfig
from lakeshift.engines.connect import connect_lake_engine, open_lake
from lakeshift.engines.mysql import connect
from lakeshift.engines.mysql_types import text_to_arrow_array
from lakeshift.errors import ConversionError
from lakeshift.project import load_project
from lakeshift.steps.align import align
from lakeshift.steps.analyze import analyze
from lakeshift.steps.compare import compare
from lakeshift.steps.upload import upload
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import canonical_float, canonical_value
from mariadb_support import MariaDBServer as Server

pytestmark = pytest.mark.mariadb

COLUMNS_DDL = """
  id INT PRIMARY KEY, created DATETIME(6) NOT NULL,
  ti TINYINT, si SMALLINT, mi MEDIUMINT, i INT, ui INT UNSIGNED, bi BIGINT, ubi BIGINT UNSIGNED,
  flag TINYINT(1), yr YEAR, b1 BIT(1), b64 BIT(64),
  d38 DECIMAL(38,10), d52 DECIMAL(5,2), fl FLOAT, db DOUBLE,
  ch CHAR(5), vc VARCHAR(50), lt VARCHAR(20) CHARACTER SET latin1, tx LONGTEXT,
  en ENUM('small','large','x|y'), st SET('a','b','c'), js JSON, tm TIME(6), uu UUID, ip INET6,
  bn BINARY(4), vb VARBINARY(20), bl BLOB, pt POINT, dt DATE, ts TIMESTAMP(6) NULL DEFAULT NULL
"""
NAMES = [line.split()[0] for line in COLUMNS_DDL.replace("\n", " ").split(", ") if line.strip()]
# 1.6 M characters, 2.6 MB of UTF-8, with 320 characters to escape (MariaDB's REPLACE is
# quadratic in the number of replacements: see docs/engines/mysql.md).
LONG_TEXT = ("ü€😀" * 2_500 + "|\\") * 160


def float32(value: float) -> float:
    """What a FLOAT column stores for `value`, widened exactly to a double."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def point(x: float, y: float) -> bytes:
    """MySQL's internal geometry: SRID 0, then little-endian WKB of a point."""
    return struct.pack("<IBIdd", 0, 1, 1, x, y)


# Edge rows: column -> value as inserted; `expected` gives what the lake must hold.
EDGE_ROWS: list[dict[str, Any]] = [
    {  # maxima
        "id": 1,
        "created": datetime(9999, 12, 31, 23, 59, 59, 999999),
        "ti": 127,
        "si": 32767,
        "mi": 8388607,
        "i": 2147483647,
        "ui": 4294967295,
        "bi": 2**63 - 1,
        "ubi": 2**64 - 1,
        "flag": 1,
        "yr": 2155,
        "b1": 1,
        "b64": 2**64 - 1,
        "d38": Decimal("9999999999999999999999999999.9999999999"),
        "d52": Decimal("999.99"),
        "fl": 3.4028234663852886e38,
        "db": 1.7976931348623157e308,
        "ch": "zzzzz",
        "vc": "😀 four-byte UTF-8 🚀",
        "lt": "Zürich",
        "tx": LONG_TEXT,
        "en": "x|y",
        "st": "a,b,c",
        "js": '{"a": [1, 2.5, "x|y\\\\z"]}',
        "tm": "838:59:59.000000",
        "uu": "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "ip": "::ffff:1.2.3.4",
        "bn": b"\xff" * 4,
        "vb": b"\xff" * 20,
        "bl": bytes(range(256)) * 4,
        "pt": (180.0, 90.0),
        "dt": date(9999, 12, 31),
        "ts": "2038-01-19 08:44:07.999999",  # 03:14:07.999999 UTC
    },
    {  # minima
        "id": 2,
        "created": datetime(1000, 1, 1),
        "ti": -128,
        "si": -32768,
        "mi": -8388608,
        "i": -2147483648,
        "ui": 0,
        "bi": -(2**63),
        "ubi": 0,
        "flag": -128,
        "yr": 1901,
        "b1": 0,
        "b64": 0,
        "d38": Decimal("-9999999999999999999999999999.9999999999"),
        "d52": Decimal("-999.99"),
        "fl": -1.1754943508222875e-38,
        "db": 5e-324,
        "ch": "",
        "vc": "",
        "lt": "",
        "tx": "",
        "en": "small",
        "st": "",
        "js": "[]",
        "tm": "-838:59:59.000000",
        "uu": "00000000-0000-0000-0000-000000000000",
        "ip": "::",
        "bn": b"\x00" * 4,
        "vb": b"",
        "bl": b"",
        "pt": (-180.0, -90.0),
        "dt": date(1000, 1, 1),
        "ts": "1970-01-01 05:30:01.000000",  # 00:00:01 UTC, the smallest TIMESTAMP
    },
    {  # zeros, signs and text that trims or escapes
        "id": 3,
        "created": datetime(1969, 7, 20, 20, 17, 40, 1),
        "ti": 0,
        "si": 0,
        "mi": 0,
        "i": 0,
        "ui": 0,
        "bi": 0,
        "ubi": 2**63,
        "flag": 2,
        "yr": 0,
        "b1": 0,
        "b64": 2**63,
        "d38": Decimal("-0.0000000000"),
        "d52": Decimal("-0.00"),
        "fl": -0.0,
        "db": -0.0,
        "ch": "ab  ",
        "vc": "a ",
        "lt": "a|b\\c",
        "tx": "line1\nline2\r\n\ttab ",
        "en": "large",
        "st": "b",
        "js": "null",
        "tm": "00:00:00.000001",
        "uu": "123e4567-e89b-12d3-a456-426614174000",
        "ip": "2001:db8::1",
        "bn": b"a",
        "vb": b"\x00",
        "bl": b"\x00\xff",
        "pt": (0.0, 0.0),
        "dt": date(1969, 12, 31),
        "ts": None,
    },
    {"id": 4, "created": datetime(2038, 1, 19, 3, 14, 8)},  # NULL in every other column
    {  # text that looks like NULL markers; values just past int64; a DST-free local zone
        "id": 5,
        "created": datetime(2100, 2, 28, 12),
        "ti": 1,
        "bi": -1,
        "ubi": 2**63 + 1,
        "d38": Decimal("0.0000000001"),
        "d52": Decimal("0.01"),
        "fl": 0.1,
        "db": 0.30000000000000004,
        "ch": "|",
        "vc": "NULL",
        "lt": "\\N",
        "tx": "back\\slash|pipe",
        "js": '{"k": "é"}',
        "tm": "12:34:56.789012",
        "st": "a,c",
        "dt": date(2040, 2, 29),
        "ts": "2024-03-10 05:30:00.250000",  # 00:00:00.25 UTC
    },
    {"id": 6, "created": datetime(2024, 2, 29), "vc": "A", "db": 2.0**-22, "fl": 16777217.0},
    {"id": 7, "created": datetime(2024, 3, 1), "vc": "a", "db": 9.999999999999999e22, "fl": 1e-45},
    {"id": 8, "created": datetime(2024, 3, 31, 23, 59, 59, 999999), "vc": "b", "db": -123.456},
]


def _bulk_row(i: int) -> dict[str, Any]:
    rng = random.Random(i)
    created = datetime(2023, 1, 1) + timedelta(
        days=rng.randrange(700), microseconds=rng.randrange(10**11)
    )
    return {
        "id": i,
        "created": created,
        "i": rng.randrange(-(2**31), 2**31),
        "bi": rng.randrange(-(2**63), 2**63),
        "ubi": rng.randrange(2**64),
        "d38": Decimal(rng.randrange(-(10**20), 10**20)).scaleb(-10),
        "fl": rng.uniform(-1e6, 1e6),
        "db": rng.uniform(-1, 1) * 10.0 ** rng.randrange(-300, 300),
        "vc": rng.choice(["", None, "NULL", "x|y", "tab\t", "Ünïcödé", "東京"]),
        "dt": created.date(),
        "ts": (created + timedelta(days=2555)).isoformat(sep=" "),
        "bl": rng.randbytes(rng.randrange(20)),
    }


ROWS = EDGE_ROWS + [_bulk_row(i) for i in range(100, 340)]


def expected(column: str, value: Any) -> Any:
    """The value the lake must hold for a value inserted into `column`."""
    if value is None:
        return None
    if column == "fl":
        return float32(value)
    if column == "ch":
        return value.rstrip(" ")  # MySQL strips CHAR padding when it reads a value
    if column == "bn":
        return value.ljust(4, b"\x00")  # BINARY(n) pads with zero bytes when it stores one
    if column == "pt":
        return point(*value)
    if column == "ts":  # written from a '+05:30' session
        return datetime.fromisoformat(value) - timedelta(hours=5, minutes=30)
    return value


def _insert(connection: pymysql.connections.Connection[Any], table: str) -> None:
    placeholders = ", ".join("ST_GeomFromText(%s)" if n == "pt" else "%s" for n in NAMES)
    names = ", ".join(f"`{n}`" for n in NAMES)

    def cell(row: dict[str, Any], name: str) -> Any:
        value = row.get(name)
        return f"POINT({value[0]!r} {value[1]!r})" if name == "pt" and value else value

    with connection.cursor() as cursor:
        cursor.execute("SET time_zone = '+05:30'")
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({placeholders})",
            [tuple(cell(row, name) for name in NAMES) for row in ROWS],
        )
        cursor.execute("SET time_zone = SYSTEM")


@pytest.fixture(scope="module")
def matrix(server: Server) -> str:
    packet = int(server.execute("SELECT @@max_allowed_packet")[0][0])
    assert packet > 4 * len(LONG_TEXT.encode()), (
        "max_allowed_packet too small for the 1 MB text test"
    )
    table = server.create("matrix", COLUMNS_DDL)
    _insert(server.connection, table)
    return table


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return {"home": tmp_path_factory.mktemp("mysql_matrix")}


@pytest.fixture
def uploaded(matrix: str, runs: dict[str, Any], make_project: Any, mariadb_url: str) -> Path:
    """The matrix analyzed and uploaded once per module (by month of `created`)."""
    if "meta" not in runs:
        spec = {
            "source_table": f"test.{matrix}",
            "target_table": "matrix",
            "key_columns": "id",
            "date_column": "created",
        }
        meta = make_project(mariadb_url, [spec], folder=runs["home"] / "project", chunk_size=40)
        project = load_project(meta)
        runs["analyzed"] = analyze(project)
        runs["uploaded"] = upload(project, project.output / ANALYSIS_PICKLE)
        runs["meta"] = meta
    return Path(runs["meta"])


def _lake_rows(meta: Path) -> dict[int, dict[str, Any]]:
    files = sorted((meta.parent / "lake").rglob("*.parquet"))
    table = pa.concat_tables([pq.read_table(f) for f in files])
    return {row["id"]: row for row in table.to_pylist()}


def _alignment(meta: Path) -> dict[str, Any]:
    content = json.loads((meta.parent / "output" / ALIGNMENT_JSON).read_text(encoding="utf-8"))
    entry: dict[str, Any] = content["tables"][0]
    return entry


def test_every_type_uploads_and_verifies_equal_at_every_level(
    uploaded: Path, runs: dict[str, Any]
) -> None:
    assert [o.status for o in runs["analyzed"]] == ["not_migrated"]
    assert [o.status for o in runs["uploaded"]] == ["uploaded"], runs["uploaded"]
    project = load_project(uploaded)
    assert [o.status for o in analyze(project)] == ["match"]
    assert [o.status for o in compare(project)] == ["match"]
    assert [o.status for o in align(project)] == ["match"]
    entry = _alignment(uploaded)
    assert all(entry["levels"].values()), entry["levels"]
    assert entry["rows_compared"] == len(ROWS)
    assert entry["values"]["matched"] == len(ROWS)
    assert set(entry["columns_compared"]) == set(NAMES)
    metadata = json.loads(
        next((uploaded.parent / "output").glob("upload_metadata_*.json")).read_text()
    )
    snapshot = metadata["tables"][0]["snapshot"]
    assert snapshot["kind"] == "consistent_snapshot" and "started" in snapshot["token"]


def test_the_lake_holds_exactly_the_inserted_values(uploaded: Path) -> None:
    lake = _lake_rows(uploaded)
    assert set(lake) == {row["id"] for row in ROWS}
    for row in ROWS:
        stored = lake[row["id"]]
        for name in NAMES:
            want, got = expected(name, row.get(name)), stored[name]
            if name == "ts" and got is not None:
                got = got.astimezone(UTC).replace(tzinfo=None)  # the lake keeps UTC instants
            if isinstance(want, float) and want == 0:
                assert got == 0, (row["id"], name)
            else:
                assert got == want, (row["id"], name, str(got)[:80], str(want)[:80])


def test_lake_types_are_the_documented_mapping(uploaded: Path) -> None:
    schema = pq.read_schema(next((uploaded.parent / "lake").rglob("*.parquet")))
    want = {
        "ti": pa.int64(),
        "ubi": pa.decimal128(20, 0),
        "b64": pa.decimal128(20, 0),
        "flag": pa.int64(),
        "yr": pa.int64(),
        "b1": pa.int64(),
        "d38": pa.decimal128(38, 10),
        "fl": pa.float64(),
        "db": pa.float64(),
        "tm": pa.string(),
        "en": pa.string(),
        "st": pa.string(),
        "js": pa.string(),
        "uu": pa.string(),
        "ip": pa.string(),
        "bn": pa.binary(),
        "pt": pa.binary(),
        "dt": pa.date32(),
        "created": pa.timestamp("us"),
        "ts": pa.timestamp("us", tz="UTC"),
    }
    assert {name: schema.field(name).type for name in want} == want


def test_canonical_text_agrees_between_mysql_python_and_duckdb(
    uploaded: Path, matrix: str, mariadb_url: str
) -> None:
    """For every edge value: MySQL's SQL, the Python reference and DuckDB over the lake agree."""
    project = load_project(uploaded)
    source = connect(mariadb_url, project.migration)
    lake = connect_lake_engine(open_lake(project.migration), project.migration)
    try:
        columns = source.columns(f"test.{matrix}")
        lake_types = {c.name: c.logical for c in lake.columns("matrix")}
        assert {c.name: c.logical for c in columns} == {n: lake_types[n] for n in NAMES}
        ours = _canonical_rows(source, f"test.{matrix}", columns)
        theirs = _canonical_rows(lake, "matrix", columns)
    finally:
        source.close()
        lake.close()
    for row in EDGE_ROWS:
        for column in columns:
            reference = canonical_value(expected(column.name, row.get(column.name)), column.logical)
            mine, duck = ours[row["id"]][column.name], theirs[row["id"]][column.name]
            assert mine == reference == duck, (
                row["id"],
                column.name,
                str(mine)[:60],
                str(reference)[:60],
            )


def _canonical_rows(
    engine: Any, table: str, columns: list[Any]
) -> dict[int, dict[str, str | None]]:
    texts = ", ".join(engine.canonical_sql(engine.quote(c.name), c.logical) for c in columns)
    sql = f"SELECT {engine.quote('id')}, {texts} FROM {engine.table_sql(table)} WHERE {engine.quote('id')} < 100"
    return {
        row[0]: dict(zip([c.name for c in columns], row[1:], strict=True))
        for row in engine.query(sql)
    }


def _differences(entry: dict[str, Any]) -> set[tuple[str, str, str | None]]:
    """Every (kind, key, column) the results name, in values, excluded columns and periods."""
    samples = list(entry["values"]["samples"])
    samples += [
        s for c in entry["columns_excluded"] if "localized" in c for s in c["localized"]["samples"]
    ]
    samples += [s for p in entry["periods_excluded"] for s in p["localized"]["samples"]]
    found: set[tuple[str, str, str | None]] = set()
    for sample in samples:
        key = sample["key"]["id"]
        if sample["kind"] == "changed":
            found |= {("changed", key, c["column"]) for c in sample["columns"]}
        else:
            found.add((sample["kind"], key, None))
    return found


def _change_in_lake(meta: Path, key: int, column: str, change: Callable[[Any], Any]) -> None:
    """Rewrite the lake's Parquet file holding row `key` with one value changed."""
    changed = 0
    for path in (meta.parent / "lake").rglob("*.parquet"):
        table = pq.read_table(path)
        ids = table.column("id").to_pylist()
        if key not in ids:
            continue
        index = table.schema.get_field_index(column)
        values = table.column(column).to_pylist()
        values[ids.index(key)] = change(values[ids.index(key)])
        field = table.schema.field(index)
        pq.write_table(table.set_column(index, field, pa.array(values, field.type)), path)
        changed += 1
    assert changed == 1


CORRUPTIONS: list[tuple[str, int, str, Callable[[Any], Any]]] = [
    ("the last digit of a DECIMAL(38,10)", 5, "d38", lambda v: v + Decimal("0.0000000001")),
    ("a trailing space on a string", 7, "vc", lambda v: v + " "),
    ("one microsecond of a TIMESTAMP", 5, "ts", lambda v: v + timedelta(microseconds=1)),
    ("one ulp of a FLOAT", 120, "fl", lambda v: float32(v * (1 + 2**-22))),
    ("one byte of a BLOB", 1, "bl", lambda v: b"\xfe" + v[1:]),
]


@pytest.mark.parametrize(
    ("what", "key", "column", "change"), CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS]
)
def test_a_changed_value_in_the_lake_is_named_by_key_and_column(
    uploaded: Path, tmp_path: Path, what: str, key: int, column: str, change: Callable[[Any], Any]
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(uploaded.parent, copy)  # lake, catalog and outputs move together
    meta = copy / uploaded.name
    _change_in_lake(meta, key, column, change)
    assert [o.status for o in align(load_project(meta))] == ["mismatch"], what
    assert _differences(_alignment(meta)) == {("changed", str(key), column)}, what


# --- floats: the IEEE-754 bits of every double, read from a point's well-known binary -----------

MAX_DOUBLE = 1.7976931348623157e308
MIN_NORMAL = 2.2250738585072014e-308


def _double_values() -> list[float]:
    """Every power of two with both neighbours, the extremes, subnormals, plain values, random bit
    patterns, and the negatives of all (plus both zeros)."""
    values = [1.0, 2.0, 2.5, 0.1, 0.1 + 0.2, 1 / 3, 123456789.123, 1e23, MAX_DOUBLE, MIN_NORMAL]
    values += [5e-324, 1e-310, 1e-320, math.nextafter(MIN_NORMAL, 0), 2.0**-1073 + 2.0**-1074]
    values += [math.nextafter(MIN_NORMAL, 1), math.nextafter(MAX_DOUBLE, 0)]
    for exponent in range(-1074, 1024):
        power = math.ldexp(1.0, exponent)
        values += [power, math.nextafter(power, 0), math.nextafter(power, math.inf)]
    rng = random.Random(11)
    while len(values) < 10_000:
        value = struct.unpack(">d", rng.randbytes(8))[0]
        if math.isfinite(value):
            values.append(value)
    values = [v for v in values if math.isfinite(v) and v != 0]
    return [0.0, -0.0, *values, *(-v for v in values)]


def _float32_values() -> list[float]:
    """Single-precision values (as their exact double widenings), their extremes included."""
    rng = random.Random(12)
    patterns = [0x00000001, 0x007FFFFF, 0x00800000, 0x7F7FFFFF, 0x3F800000, 0x3F800001, 0x4B800001]
    patterns += [rng.getrandbits(31) for _ in range(2000)]
    values = [struct.unpack(">f", struct.pack(">I", p))[0] for p in patterns]
    values = [v for v in values if math.isfinite(v)] + [0.1, 16777217.0, 1 / 3]
    values = [float32(v) for v in values]
    return values + [-v for v in values]


def test_float_canonical_text_is_the_ieee_bits_of_every_double(
    server: Server, mariadb_url: str
) -> None:
    """DOUBLE renders exactly `canonical_float` (the 16 hex digits of the binary64 bits) for
    powers of two and their neighbours over the whole range, subnormals, the extremes and random
    bit patterns; one ulp changes the text."""
    values = _double_values()
    table = server.create("doubles", "id INT PRIMARY KEY, x DOUBLE")
    with server.connection.cursor() as cursor:  # PyMySQL sends repr(x): the exact double
        cursor.executemany(f"INSERT INTO {table} VALUES (%s, %s)", list(enumerate(values)))
    engine = connect(mariadb_url, MigrationConfig())
    try:
        x = engine.canonical_sql(engine.quote("x"), LogicalType(Kind.FLOAT))
        rows = engine.query(f"SELECT id, x, {x} FROM {engine.table_sql(table)} ORDER BY id")
    finally:
        engine.close()
    assert len(rows) == len(values)
    texts: dict[str, float] = {}
    for i, stored, text in rows:
        assert stored == values[i], (values[i], stored)  # stored exactly
        assert text == canonical_float(values[i]), (values[i], text)
        assert texts.setdefault(text, values[i]) == values[i], (
            text,
            values[i],
        )  # one text, one double
    by_value = {values[i]: text for i, _, text in rows}
    assert by_value[1.0] == "3ff0000000000000" and by_value[-2.5] == "c004000000000000"
    assert by_value[0.1] == "3fb999999999999a" and by_value[5e-324] == "0000000000000001"
    assert by_value[MAX_DOUBLE] == "7fefffffffffffff" and by_value[0.0] == "0"
    assert by_value[math.nextafter(1.0, 2)] == "3ff0000000000001"  # one ulp: another text
    assert by_value[math.nextafter(MIN_NORMAL, 0)] == "000fffffffffffff"


def test_float_column_renders_the_bits_of_its_exact_widening(
    server: Server, mariadb_url: str
) -> None:
    """FLOAT (single precision) renders `canonical_float` of the float32 value widened to double."""
    values = _float32_values()
    table = server.create("singles", "id INT PRIMARY KEY, f FLOAT")
    with server.connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} VALUES (%s, %s)", list(enumerate(values)))
    engine = connect(mariadb_url, MigrationConfig())
    try:
        f = engine.canonical_sql(engine.quote("f"), LogicalType(Kind.FLOAT))
        rows = engine.query(
            f"SELECT id, CAST(f AS DOUBLE), {f} FROM {engine.table_sql(table)} ORDER BY id"
        )
    finally:
        engine.close()
    assert len(rows) == len(values)
    for i, widened, text in rows:
        assert widened == values[i], (values[i], widened)  # stored and widened exactly
        assert text == canonical_float(values[i]), (values[i], text)
    by_value = {values[i]: text for i, _, text in rows}
    one_ulp_up = 1 + 2**-23  # one single-precision ulp above 1
    assert by_value[1.0] == "3ff0000000000000" and by_value[one_ulp_up] == "3ff0000020000000"
    assert by_value[float32(1e-45)] == "36a0000000000000"  # the smallest single subnormal


@pytest.mark.parametrize(
    ("values", "logical", "message"),
    [
        (
            [b"2024-01-05", b"0000-00-00"],
            LogicalType(Kind.DATE),
            "'0000-00-00' is a zero or invalid",
        ),
        ([b"0000-01-01"], LogicalType(Kind.DATE), "'0000-01-01' is a zero or invalid"),
        ([b"0000-01-01 00:00:00"], LogicalType(Kind.TIMESTAMP), "'0000-01-01 00:00:00' is a zero"),
        ([b"2024-03-00 10:00:00"], LogicalType(Kind.TIMESTAMP, tz="UTC"), "'2024-03-00 10:00:00'"),
        ([b"1", b"9223372036854775808"], LogicalType(Kind.INTEGER), "'9223372036854775808' does"),
        ([b"12.345"], LogicalType(Kind.DECIMAL, 5, 2), "'12.345' does not fit decimal128"),
        ([b"1000.00"], LogicalType(Kind.DECIMAL, 5, 2), "'1000.00' does not fit"),
        ([b"ok", b"caf\xe9"], LogicalType(Kind.STRING), "b'caf\\xe9' is not valid UTF-8"),
        ([b"x"], LogicalType(Kind.FLOAT), "'x' does not fit double"),
    ],
)
def test_text_conversion_refuses_what_does_not_fit_and_names_the_value(
    values: list[bytes], logical: LogicalType, message: str
) -> None:
    with pytest.raises(ConversionError, match=re.escape(message)):
        text_to_arrow_array(values, logical, "test.t", "c")


def test_text_conversion_is_exact_at_the_edges() -> None:
    cases: list[tuple[list[bytes | None], LogicalType, list[Any]]] = [
        ([b"-9223372036854775808", None, b"0"], LogicalType(Kind.INTEGER), [-(2**63), None, 0]),
        ([b"18446744073709551615"], LogicalType(Kind.DECIMAL, 20, 0), [Decimal(2**64 - 1)]),
        (
            [b"-0.00", b"999.99"],
            LogicalType(Kind.DECIMAL, 5, 2),
            [Decimal("0.00"), Decimal("999.99")],
        ),
        (
            [b"5e-324", b"-0", b"0.30000000000000004"],
            LogicalType(Kind.FLOAT),
            [5e-324, -0.0, 0.30000000000000004],
        ),
        ([b"", None, "😀".encode()], LogicalType(Kind.STRING), ["", None, "😀"]),
        ([b"\x00\xff", b""], LogicalType(Kind.BINARY), [b"\x00\xff", b""]),
        (
            [b"0001-01-01", b"9999-12-31"],
            LogicalType(Kind.DATE),
            [date(1, 1, 1), date(9999, 12, 31)],
        ),
        (
            [b"1969-07-20 20:17:40.000001", b"2038-01-19 03:14:08"],
            LogicalType(Kind.TIMESTAMP, tz="UTC"),
            [
                datetime(1969, 7, 20, 20, 17, 40, 1, UTC),
                datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC),
            ],
        ),
    ]
    for values, logical, wanted in cases:
        array = text_to_arrow_array(values, logical, "test.t", "c")
        assert array.type == logical.to_arrow() and array.to_pylist() == wanted, logical
    negative_zero = text_to_arrow_array([b"-0"], LogicalType(Kind.FLOAT), "test.t", "c")
    assert math.copysign(1, negative_zero[0].as_py()) == -1
