"""Timestamps compared at a common millisecond precision (a lake read through Athena).

Athena sees Parquet timestamps of Glue tables at milliseconds, rounded half up as Trino's Parquet
reader rounds them. Every engine must then render the source's microseconds rounded the same way
(the Python reference in `verify.canonical`), periods and distinct counts included, or sub-
millisecond data would raise false alarms; and a real difference of a millisecond must still show.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlglot

from lakeshift.config import MigrationConfig
from lakeshift.engines.base import SqlEngine
from lakeshift.engines.duckdb import DuckDBEngine
from lakeshift.engines.oracle_sql import canonical_sql as oracle_canonical_sql
from lakeshift.engines.oracle_sql import period_sql as oracle_period_sql
from lakeshift.engines.postgres import PostgresEngine
from lakeshift.engines.sqlite import SQLiteEngine
from lakeshift.inventory import Period
from lakeshift.lake.catalog import LocalCatalog
from lakeshift.lake.storage import LakeStorage
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import canonical_value, common_precision, round_timestamp

NAIVE = LogicalType(Kind.TIMESTAMP)
ZONED = LogicalType(Kind.TIMESTAMP, tz="UTC")
POLICY = LogicalType(Kind.DECIMAL, 38, 10)

# (stored value, its text at milliseconds): half up, carrying into second, day, month and year.
EDGES = [
    ("2024-02-29 12:00:00.123500", "2024-02-29 12:00:00.124000"),
    ("2024-02-29 12:00:00.123499", "2024-02-29 12:00:00.123000"),
    ("1969-12-31 23:59:59.999500", "1970-01-01 00:00:00.000000"),
    ("1969-12-31 23:59:59.999499", "1969-12-31 23:59:59.999000"),
    ("2024-06-30 23:59:59.999700", "2024-07-01 00:00:00.000000"),
    ("2038-01-19 03:14:07.000999", "2038-01-19 03:14:07.001000"),
    ("1900-01-01 00:00:00.000000", "1900-01-01 00:00:00.000000"),
    ("2024-03-01 08:30:00.000001", "2024-03-01 08:30:00.000000"),
    # held at the last millisecond of 9999, where rounding would pass it (ORA-01841, OverflowError)
    ("9999-12-31 23:59:59.999999", "9999-12-31 23:59:59.999000"),
    ("9999-12-31 23:59:59.999500", "9999-12-31 23:59:59.999000"),
    ("9999-12-31 23:59:59.999499", "9999-12-31 23:59:59.999000"),
    ("9999-12-31 23:59:59.998499", "9999-12-31 23:59:59.998000"),
]


# --- the reference -----------------------------------------------------------------------------
@pytest.mark.parametrize(("stored", "expected"), EDGES)
def test_reference_rounds_half_up_to_the_millisecond(stored: str, expected: str) -> None:
    value = datetime.fromisoformat(stored)
    assert canonical_value(value, NAIVE, "millisecond") == expected
    assert canonical_value(value, NAIVE) == stored  # microseconds by default


def test_reference_rounds_the_utc_instant_of_a_zoned_value() -> None:
    plus_two = timezone(timedelta(hours=2))
    value = datetime(2024, 12, 31, 23, 59, 59, 999600, tzinfo=plus_two)
    assert canonical_value(value, ZONED, "millisecond") == "2024-12-31 22:00:00.000000"


def test_rounding_agrees_with_trino_on_every_microsecond_of_a_millisecond() -> None:
    """Trino rounds epoch microseconds m to floor((m + 500) / 1000) milliseconds, also before
    1970; the reference must give that for each of the 1000 positions inside a millisecond."""
    for base in (datetime(1965, 5, 5, 5, 5, 5), datetime(2030, 1, 1)):
        epoch_base = round(
            (base.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC))
            / timedelta(microseconds=1)
        )
        for offset in range(1000):
            micros = epoch_base + offset
            expected = datetime(1970, 1, 1) + timedelta(milliseconds=(micros + 500) // 1000)
            value = base + timedelta(microseconds=offset)
            assert round_timestamp(value, "millisecond") == expected


def test_a_millisecond_apart_still_differs_at_milliseconds() -> None:
    one = datetime(2024, 1, 1, 0, 0, 0, 123000)
    assert canonical_value(one, NAIVE, "millisecond") != canonical_value(
        one + timedelta(milliseconds=1), NAIVE, "millisecond"
    )


def test_common_precision_is_the_coarsest_and_never_finer_than_microseconds() -> None:
    assert common_precision("microsecond", "millisecond") == "millisecond"
    assert common_precision("nanosecond", "microsecond") == "microsecond"
    assert common_precision("nanosecond", "millisecond") == "millisecond"
    with pytest.raises(ValueError, match="second"):
        common_precision("second", "microsecond")


# --- every engine renders the reference --------------------------------------------------------
@pytest.fixture
def duckdb_engine(tmp_path: Path) -> Iterator[SqlEngine]:
    engine = DuckDBEngine(LocalCatalog(LakeStorage.local(tmp_path / "lake", "test")))
    yield engine
    engine.close()


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[SqlEngine]:
    engine = PostgresEngine(postgres_url, POLICY)
    yield engine
    engine.close()


@pytest.fixture
def mariadb_engine(mariadb_url: str) -> Iterator[SqlEngine]:
    from lakeshift.engines.mysql import connect

    engine = connect(mariadb_url, MigrationConfig())
    yield engine
    engine.close()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[SqlEngine]:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    engine = SQLiteEngine(path, POLICY)
    yield engine
    engine.close()


def _literal_sql(engine: SqlEngine, stored: str) -> str:
    """A one-row relation whose column `v` holds the naive timestamp `stored`."""
    name = type(engine).__name__
    if name == "SQLiteEngine":
        return f"(SELECT '{stored}' AS v)"
    if name == "MySQLEngine":
        return f"(SELECT CAST('{stored}' AS DATETIME(6)) AS v) AS t"
    return f"(SELECT CAST('{stored}' AS TIMESTAMP) AS v) AS t"


ENGINES = ["sqlite_engine", "duckdb_engine", "postgres_engine", "mariadb_engine"]


@pytest.mark.parametrize("fixture", ENGINES)
def test_engines_render_the_reference_at_milliseconds(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    engine: SqlEngine = request.getfixturevalue(fixture)
    engine.compare_timestamps_at("millisecond")
    for stored, expected in EDGES:
        relation = _literal_sql(engine, stored)
        canonical = engine.canonical_sql(engine.quote("v"), NAIVE)
        month = engine.period_sql(engine.quote("v"), NAIVE, Period.MONTH)
        [(text, period)] = engine.query(f"SELECT {canonical}, {month} FROM {relation}")
        assert (text, period) == (expected, expected[:7]), (fixture, stored)


@pytest.mark.parametrize(
    ("fixture", "stored"),
    [
        ("postgres_engine", "infinity"),
        ("postgres_engine", "12000-01-01 00:00:00"),
        ("duckdb_engine", "infinity"),
        ("duckdb_engine", "12000-01-01 00:00:00"),
    ],
)
def test_a_value_past_year_9999_keeps_its_own_text_at_milliseconds(
    fixture: str, stored: str, request: pytest.FixtureRequest
) -> None:
    """Only what rounding would carry past 9999 is held at its last millisecond: infinity (which
    the upload refuses, so only a source changed since holds it) and later years rendered as
    9999-12-31 23:59:59.999, equal to a lake holding that value."""
    engine: SqlEngine = request.getfixturevalue(fixture)
    engine.compare_timestamps_at("millisecond")
    canonical = engine.canonical_sql(engine.quote("v"), NAIVE)
    month = engine.period_sql(engine.quote("v"), NAIVE, Period.MONTH)
    [(text, period)] = engine.query(
        f"SELECT {canonical}, {month} FROM {_literal_sql(engine, stored)}"
    )
    assert text != "9999-12-31 23:59:59.999000" and period != "9999-12", (text, period)


@pytest.mark.parametrize("fixture", ENGINES)
def test_engines_keep_microseconds_unless_asked(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    engine: SqlEngine = request.getfixturevalue(fixture)
    for stored, _ in EDGES:
        canonical = engine.canonical_sql(engine.quote("v"), NAIVE)
        [(text,)] = engine.query(f"SELECT {canonical} FROM {_literal_sql(engine, stored)}")
        assert text == stored


def test_postgres_rounds_the_utc_instant_in_a_session_of_another_zone(postgres_url: str) -> None:
    engine = PostgresEngine(postgres_url, POLICY)
    try:
        engine.compare_timestamps_at("millisecond")
        engine.query("SELECT set_config('TimeZone', 'Asia/Kathmandu', false)")
        canonical = engine.canonical_sql('"v"', ZONED)
        relation = "(SELECT TIMESTAMPTZ '2024-12-31 23:59:59.9996+02' AS v) AS t"
        assert engine.query(f"SELECT {canonical} FROM {relation}") == [
            ("2024-12-31 22:00:00.000000",)
        ]
    finally:
        engine.close()


def test_distinct_counts_the_rounded_values(postgres_url: str) -> None:
    """Two timestamps inside one millisecond are one value to Athena, two to the source."""
    engine = PostgresEngine(postgres_url, POLICY)
    rows = "(VALUES (TIMESTAMP '2024-01-01 00:00:00.1001'), (TIMESTAMP '2024-01-01 00:00:00.1003'))"
    try:
        for precision, distinct in (("microsecond", 2), ("millisecond", 1)):
            engine.compare_timestamps_at(precision)
            count = engine.distinct_sql('"v"', NAIVE)
            assert engine.query(f"SELECT COUNT(DISTINCT {count}) FROM {rows} AS t(v)") == [
                (distinct,)
            ]
    finally:
        engine.close()


def test_an_engine_refuses_a_precision_canonical_text_has_no_rule_for(
    duckdb_engine: SqlEngine,
) -> None:
    with pytest.raises(ValueError, match="second"):
        duckdb_engine.compare_timestamps_at("second")


# --- Oracle: rendered SQL only (no server here) ------------------------------------------------
@pytest.mark.parametrize("logical", [NAIVE, ZONED])
def test_oracle_millisecond_sql_is_golden_and_parses(logical: LogicalType) -> None:
    canonical = oracle_canonical_sql('"V"', logical, precision="millisecond")
    period = oracle_period_sql('"V"', logical, Period.DAY, precision="millisecond")
    utc = 'SYS_EXTRACT_UTC("V")' if logical.tz else '"V"'
    value = f"CAST({utc} AS TIMESTAMP(9))"
    shifted = (
        f"(CASE WHEN {value} >= TIMESTAMP '9999-12-31 23:59:59.9995' "
        f"THEN TIMESTAMP '9999-12-31 23:59:59.999' ELSE {value} + INTERVAL '0.0005' SECOND END)"
    )
    assert canonical == (f"SUBSTR(TO_CHAR({shifted}, 'YYYY-MM-DD HH24:MI:SS.FF9'), 1, 23) || '000'")
    assert period == f"TO_CHAR({shifted}, 'YYYY-MM-DD')"
    for sql in (canonical, period):
        sqlglot.parse_one(f"SELECT {sql} FROM T", read="oracle")
