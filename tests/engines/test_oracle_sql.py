"""The Oracle engine against a recording stand-in for a python-oracledb connection.

Golden SQL: every statement the engine sends (session set-up, table exists, columns, primary key,
SCN, row count, period counts, period slices, column statistics over a table with a column of
each type, bucket checksums, group rows, row texts, the analyzer's checks, extraction AS OF SCN)
is recorded with its binds and compared with a reviewed file under `golden/oracle/`
(`LAKESHIFT_UPDATE_GOLDEN=1` rewrites them); each statement must parse with sqlglot's Oracle
dialect and must not use what sqlglot accepts but Oracle refuses (`%`, `>>`, `&`, `GROUP BY 1`).

Engine behaviour: which statements run (one SCN per table, none when snapshots are off), what
they bind, how results come back (sums and hashes exact, checksums recombined), how fetched Arrow
batches become the logical types, and what is refused before any row is read.

Not exercised: a real server. Whether Oracle accepts each statement, and what it answers, is only
known from a live run (docs/engines/oracle.md); `test_oracle_canonical.py` evaluates the
canonical-text formulas with a model of Oracle's semantics.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, localcontext
from pathlib import Path
from typing import Any

import oracledb
import pyarrow as pa
import pytest
import sqlglot
from oracledb import errors as driver_errors

from lakeshift.config import MigrationConfig
from lakeshift.engines import oracle, oracle_sql
from lakeshift.engines.base import EXACT_SUMS, SUM_PART_DIGITS, Column, KeyRange, RowPlan, Scope
from lakeshift.engines.oracle import OracleEngine, parse_url
from lakeshift.engines.oracle_types import OracleType, column_reading
from lakeshift.errors import (
    ConfigError,
    ConversionError,
    TableMissingError,
    TerminalError,
    TransientError,
)
from lakeshift.inventory import Period
from lakeshift.types import Kind, LogicalType

GOLDEN = Path(__file__).parent / "golden" / "oracle"
POLICY = LogicalType.parse("decimal(38,10)")
SCN = 4711
TABLE = "hr.all_types"

# ALL_TAB_COLUMNS rows: COLUMN_NAME, DATA_TYPE, DATA_PRECISION, DATA_SCALE, NULLABLE,
# DATA_LENGTH, CHAR_LENGTH, CHAR_USED
ALL_TYPES = [
    ("ID", "NUMBER", 10, 0, "N", 22, 0, None),
    ("AMOUNT", "NUMBER", 12, 2, "Y", 22, 0, None),
    ("FREE_NUMBER", "NUMBER", None, None, "Y", 22, 0, None),
    ("RATIO", "BINARY_DOUBLE", None, None, "Y", 8, 0, None),
    ("WIDE_FLOAT", "FLOAT", 126, None, "Y", 22, 0, None),
    ("FLAG", "BOOLEAN", None, None, "Y", 1, 0, None),
    ("NAME", "VARCHAR2", None, None, "Y", 400, 100, "C"),
    ("LOCAL_NAME", "NVARCHAR2", None, None, "Y", 100, 50, "C"),
    ("NOTES", "CLOB", None, None, "Y", 4000, 0, None),
    ("PAYLOAD", "RAW", None, None, "Y", 16, 0, None),
    ("IMAGE", "BLOB", None, None, "Y", 4000, 0, None),
    ("CREATED", "DATE", None, None, "Y", 7, 0, None),
    ("UPDATED_AT", "TIMESTAMP(9)", None, 9, "Y", 11, 0, None),
    ("EVENT_AT", "TIMESTAMP(6) WITH TIME ZONE", None, 6, "Y", 13, 0, None),
    ("WAITED", "INTERVAL DAY(2) TO SECOND(6)", None, 6, "Y", 11, 0, None),
    ("RID", "ROWID", None, None, "Y", 10, 0, None),
    ("CODE", "VARCHAR2", None, None, "Y", 20, 20, "B"),
]


# --- a recording stand-in for python-oracledb -------------------------------------------------------
@dataclass
class Call:
    kind: str
    sql: str
    binds: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


class FakeCursor:
    arraysize = 100

    def __init__(self, connection: FakeConnection):
        self.connection = connection
        self.rows: list[tuple[Any, ...]] = []
        self.outputtypehandler: Any = None

    def execute(self, sql: str, binds: Any = None) -> None:
        self.connection.calls.append(Call("execute", sql, binds))
        self.rows = self.connection.answer(sql)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.rows)

    def close(self) -> None:
        pass


Answer = list[tuple[Any, ...]] | BaseException | Callable[[str], list[tuple[Any, ...]]]


class FakeConnection:
    """Answers by the first rule whose marker the statement contains; records every call."""

    def __init__(
        self,
        rules: Sequence[tuple[str, Answer]] = (),
        version: str = "19.3.0.0.0",
        frames: Sequence[pa.Table] = (),
    ):
        self.calls: list[Call] = []
        self.rules = list(rules)
        self.version = version
        self.frames = list(frames)
        self.closed = False

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def answer(self, sql: str) -> list[tuple[Any, ...]]:
        for marker, answer in self.rules:
            if marker in sql:
                if isinstance(answer, BaseException):
                    raise answer
                return answer(sql) if callable(answer) else answer
        return []

    def fetch_df_batches(
        self,
        statement: str,
        parameters: Any = None,
        size: int | None = None,
        *,
        requested_schema: Any = None,
    ) -> Iterator[pa.Table]:
        self.calls.append(
            Call(
                "fetch_df_batches",
                statement,
                parameters,
                {"size": size, "requested_schema": requested_schema},
            )
        )
        return iter(self.frames)

    def close(self) -> None:
        self.closed = True


# MIN and MAX of a float column come back as canonical text: the double's bits (-1.5, 100.0).
FLOAT_EXTREMES = ("bff8000000000000", "4059000000000000")


def stats_row(columns: list[Column]) -> Callable[[str], list[tuple[Any, ...]]]:
    """COUNT(*), then per column: count, distinct, min, max, sum, min length, max length."""
    row: tuple[Any, ...] = (Decimal(3),)
    for column in columns:
        extremes = FLOAT_EXTREMES if column.logical.kind is Kind.FLOAT else ("a", "b")
        row += (Decimal(2), Decimal(2), *extremes, None, None, None)
    return lambda sql: [row]


def rules() -> list[tuple[str, Answer]]:
    """What every test needs: the SCN, the ALL_TYPES table, its primary key, its existence."""
    return [
        ("V$DATABASE", [(Decimal(SCN),)]),
        ("NLS_DATABASE_PARAMETERS", [("AL32UTF8",)]),
        ("ALL_TAB_COLUMNS", ALL_TYPES),
        ("ALL_TAB_COLS", [("NAME", "USING_NLS_COMP"), ("CODE", "BINARY_CI")]),
        ("ALL_CONSTRAINTS", [("ID",)]),
        ("ALL_VIEWS", [(Decimal(1),)]),
    ]


def engine_for(connection: FakeConnection, **options: Any) -> OracleEngine:
    return OracleEngine(
        connection, POLICY, source="oracle://scott:***@db:1521/?service_name=PCDS", **options
    )


def all_types(engine: OracleEngine) -> list[Column]:
    return engine.columns(TABLE)


# --- golden files ----------------------------------------------------------------------------------
_LITERAL = re.compile(r"'(?:[^']|'')*'")
_NOT_ORACLE = re.compile(r"%|>>|<<|&|::|\bGROUP BY \d|\bLIMIT\b|\bILIKE\b")


def assert_oracle_sql(sql: str) -> None:
    sqlglot.parse_one(sql, read="oracle")  # raises on anything sqlglot cannot read as Oracle
    code = _LITERAL.sub("''", sql)
    assert not _NOT_ORACLE.search(code), f"not Oracle SQL: {_NOT_ORACLE.search(code)}"


def render(calls: list[Call]) -> str:
    blocks = []
    for call in calls:
        header = f"-- {call.kind}"
        if call.binds:
            header += f" binds={json.dumps(call.binds, sort_keys=True, default=str)}"
        if call.extra.get("size"):
            header += f" size={call.extra['size']}"
        schema = call.extra.get("requested_schema")
        if schema is not None:
            header += "\n-- requested: " + ", ".join(f"{f.name} {f.type}" for f in schema)
        blocks.append(f"{header}\n{call.sql};\n")
    return "\n".join(blocks)


def check_golden(name: str, calls: list[Call]) -> None:
    for call in calls:
        assert_oracle_sql(call.sql)
    text = render(calls)
    path = GOLDEN / f"{name}.sql"
    if os.environ.get("LAKESHIFT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} is missing; run with LAKESHIFT_UPDATE_GOLDEN=1 and review it"
    assert path.read_text(encoding="utf-8") == text, f"{path} differs from what the engine sends"


def _period_scope(engine: OracleEngine, **changes: Any) -> Scope:
    created = next(c for c in all_types(engine) if c.name == "CREATED")
    return Scope(TABLE, where='"AMOUNT" > 0', period_column=created, period=Period.MONTH, **changes)


def test_golden_session_and_metadata() -> None:
    connection = FakeConnection(rules())
    engine = engine_for(connection)
    assert engine.table_exists(TABLE)
    assert [c.name for c in engine.columns(TABLE)] == [row[0] for row in ALL_TYPES]
    assert engine.primary_key(TABLE) == ["ID"]
    check_golden("metadata", connection.calls)


def test_golden_counts() -> None:
    connection = FakeConnection(
        [
            ("GROUP BY", [("2024-01", Decimal(2)), (None, Decimal(1))]),
            ("COUNT(*) FROM", [(Decimal(3),)]),
            *rules(),
        ]
    )
    engine = engine_for(connection)
    scope = _period_scope(engine)
    start = len(connection.calls)
    assert engine.row_count(scope) == 3
    assert scope.period_column is not None
    assert engine.period_counts(scope, scope.period_column, Period.MONTH) == {"2024-01": 2, None: 1}
    sliced = _period_scope(engine, only_periods=frozenset({"2024-01", None}))
    assert engine.row_count(sliced) == 3
    zoned = next(c for c in all_types(engine) if c.name == "EVENT_AT")
    engine.row_count(Scope(TABLE, period_column=zoned, only_periods=frozenset({"2024-12"})))
    engine.row_count(
        Scope(
            TABLE,
            key_range=KeyRange("ID", 100, 200),
            period_column=scope.period_column,
            excluded_periods=frozenset({"2023-02", None}),
        )
    )
    key = next(c for c in all_types(engine) if c.name == "ID")
    connection.rules.insert(0, ("GROUP BY TRUNC", [(Decimal(0), Decimal(2)), (Decimal(3), 1)]))
    assert engine.key_range_counts(Scope(TABLE), key, 100, 50) == {0: 2, 3: 1}
    check_golden("counts", connection.calls[start:])


def test_golden_column_stats_of_every_type() -> None:
    connection = FakeConnection(rules())
    engine = engine_for(connection)
    columns = all_types(engine)
    connection.rules.insert(0, ("COUNT(DISTINCT", stats_row(columns)))
    start = len(connection.calls)
    stats = engine.column_stats(Scope(TABLE), columns, [c.logical for c in columns])
    assert set(stats) == {c.name for c in columns}
    name = stats["NAME"]
    assert (name.rows, name.nulls, name.distinct, name.min, name.max) == (3, 1, 2, "a", "b")
    assert (stats["RATIO"].min, stats["RATIO"].max) == ("-1.5", "100.0")
    check_golden("column_stats", connection.calls[start:])


def _plan(engine: OracleEngine, keyed: bool) -> RowPlan:
    columns = tuple(
        c
        for c in all_types(engine)
        if c.name in {"ID", "AMOUNT", "RATIO", "NAME", "IMAGE", "EVENT_AT", "CODE"}
    )
    return RowPlan(
        columns, tuple(c.logical for c in columns), key=(0,) if keyed else (), buckets=256
    )


def test_golden_row_hashes() -> None:
    connection = FakeConnection(rules())
    engine = engine_for(connection)
    scope = _period_scope(engine)
    keyed, unkeyed = _plan(engine, True), _plan(engine, False)
    connection.rules.insert(
        0, ("SUM(TRUNC(h", [("2024-01", Decimal(7), Decimal(2), Decimal(2**30 - 1), Decimal(5))])
    )
    texts_row = (
        "1",
        "1",
        "10.00",
        "1.00000000000000e+00",
        "n",
        "ff",
        "2024-01-01 00:00:00.000000",
        "AbC",
    )
    connection.rules.insert(0, ("IN ('1', '2')", [texts_row]))
    start = len(connection.calls)
    [(period, bucket, sums)] = engine.bucket_checksums(scope, keyed)
    assert (period, bucket, sums.count) == ("2024-01", 7, 2)
    assert sums.checksum == ((2**30 - 1) << 30) + 5
    list(engine.bucket_checksums(Scope(TABLE), unkeyed))
    engine.group_rows(scope, keyed, [("2024-01", 7), (None, 3)])
    engine.group_rows(scope, unkeyed, [("2024-01", 7)])  # identical rows counted in Oracle
    list(engine.bucket_rows(scope, keyed))  # pass 2 in one sorted scan
    texts = engine.row_texts(scope, keyed, [("2024-01", 7)], ["1", "2"])
    assert texts == {"1": list(texts_row[1:])}
    check_golden("row_hashes", connection.calls[start:])


def test_a_number_with_more_decimals_than_the_lake_keeps_is_not_rounded_into_its_text() -> None:
    """NUMBER without a scale renders a value with more decimals than the lake's scale as
    TO_CHAR(x), never rounded to the lake's text; a declared scale that fits needs no test.
    (The same rule runs live on PostgreSQL in test_postgres_types.)"""
    engine = engine_for(FakeConnection(rules()))
    decimal = LogicalType(Kind.DECIMAL, 38, 10)
    loose = engine.column_canonical_sql(Column("N", "NUMBER", decimal), decimal)
    fitting = engine.column_canonical_sql(Column("A", "NUMBER(12,2)", decimal), decimal)
    wide = engine.column_canonical_sql(Column("W", "NUMBER(20,12)", decimal), decimal)
    assert loose.startswith('CASE WHEN "N" <> ROUND("N", 10) THEN TO_CHAR("N") ELSE TO_CHAR("N", ')
    assert wide.startswith('CASE WHEN "W" <> ROUND("W", 10) THEN TO_CHAR("W") ELSE ')
    assert "ROUND" not in fitting
    for text in (loose, fitting, wide):
        assert_oracle_sql(f"SELECT {text} FROM T")


def test_golden_extraction_and_checks() -> None:
    zeros = ("COUNT(CASE", lambda sql: [(Decimal(0),) * sql.count("COUNT(CASE")])
    widest = ("MAX(NVL(DBMS_LOB.GETLENGTH", [(Decimal(600_000),)])
    connection = FakeConnection([zeros, widest, *rules()])
    engine = engine_for(connection)
    columns = all_types(engine)
    start = len(connection.calls)
    assert engine.fit_warnings(Scope(TABLE), columns) == []
    # the most a row holds in its LOBs, for the first batch's size (a CLOB's characters * 3)
    assert engine.widest_unbounded_bytes(Scope(TABLE, where='"ID" > 10'), columns) == 600_000
    lengths = connection.calls[-1].sql
    assert 'NVL(DBMS_LOB.GETLENGTH("NOTES"), 0) * 3' in lengths
    assert engine.widest_unbounded_bytes(Scope(TABLE), columns[:1]) is None  # no LOB
    assert list(engine.stream(Scope(TABLE, where='"ID" > 10'), columns, 1000)) == []
    check_golden("extraction", connection.calls[start:])


def test_golden_without_snapshots_and_with_scn_fallback() -> None:
    refused = oracledb.DatabaseError(oracledb_error("ORA-00942: table or view does not exist", 942))
    fallback = FakeConnection(
        [
            ("V$DATABASE", refused),
            ("DBMS_FLASHBACK", [(Decimal(99),)]),
            ("COUNT(*)", [(Decimal(0),)]),
            *rules(),
        ]
    )
    engine = engine_for(fallback)
    engine.row_count(Scope(TABLE))
    plain = FakeConnection([("COUNT(*)", [(Decimal(0),)]), *rules()])
    engine_for(plain, flashback=False).row_count(Scope(TABLE))
    check_golden("snapshots", fallback.calls + plain.calls)


def oracledb_error(message: str, code: int = 0) -> Any:
    from oracledb import errors

    return errors._Error(message, code=code)


# --- snapshots ---------------------------------------------------------------------------------
def _count_rules() -> list[tuple[str, Answer]]:
    return [("COUNT(*) FROM", [(Decimal(5),)]), *rules()]


def test_one_scn_per_table_taken_once_and_bound_to_every_read() -> None:
    connection = FakeConnection(_count_rules())
    engine = engine_for(connection)
    engine.row_count(Scope("hr.emp"))
    engine.row_count(Scope("hr.emp"))
    engine.row_count(Scope("hr.dept"))
    scn_reads = [c for c in connection.calls if "V$DATABASE" in c.sql]
    reads = [c for c in connection.calls if "COUNT(*) FROM" in c.sql]
    assert len(scn_reads) == 2  # one per table, not one per statement
    assert all(" AS OF SCN :scn" in c.sql and c.binds == {"scn": SCN} for c in reads)
    assert engine.snapshot_token() == str(SCN)


def test_recorded_snapshot_is_used_without_taking_a_new_one() -> None:
    connection = FakeConnection(_count_rules())
    engine = engine_for(connection)
    engine.use_snapshot("HR.EMP", "1234")
    engine.row_count(Scope("hr.emp"))
    assert not any("V$DATABASE" in c.sql for c in connection.calls)
    assert connection.calls[-1].binds == {"scn": 1234}
    assert engine.snapshot_token() == "1234"


def test_snapshots_off_reads_current_state() -> None:
    connection = FakeConnection(_count_rules())
    engine = engine_for(connection, flashback=False)
    engine.row_count(Scope("hr.emp"))
    assert engine.capabilities.snapshot == "none"
    assert engine.snapshot_token() is None
    assert "AS OF" not in connection.calls[-1].sql and connection.calls[-1].binds == []


def test_no_scn_privilege_names_the_table_and_the_grants() -> None:
    refused = oracledb.DatabaseError(oracledb_error("ORA-01031: insufficient privileges", 1031))
    connection = FakeConnection([("V$DATABASE", refused), ("DBMS_FLASHBACK", refused), *rules()])
    with pytest.raises(TerminalError) as raised:
        engine_for(connection).row_count(Scope("hr.emp"))
    message = str(raised.value)
    assert message.startswith("hr.emp: cannot read the current SCN (ORA-01031, ORA-01031)")
    assert "V_$DATABASE or EXECUTE on DBMS_FLASHBACK" in message and "snapshot=none" in message


def test_a_connection_lost_while_taking_the_scn_stays_transient() -> None:
    dropped = oracledb.DatabaseError(oracledb_error("ORA-03135: connection lost contact", 3135))
    connection = FakeConnection([("V$DATABASE", dropped), *rules()])
    with pytest.raises(TransientError):
        engine_for(connection).row_count(Scope("hr.emp"))
    assert not any("DBMS_FLASHBACK" in c.sql for c in connection.calls)


# --- names, metadata, types -----------------------------------------------------------------------
def test_names_are_upper_cased_unless_quoted_and_bound() -> None:
    connection = FakeConnection(rules())
    engine = engine_for(connection)
    engine.columns('hr."Mixed"')
    engine.table_exists("emp")
    assert connection.calls[-2].binds == {"owner": "HR", "name": "Mixed"}
    assert connection.calls[-1].binds == {"owner": None, "name": "EMP"}
    assert engine.table_sql('hr."Mixed"').startswith('"HR"."Mixed" AS OF SCN')


@pytest.mark.parametrize(
    ("version", "limit"), [("12.1.0.2.0", 30), ("12.2.0.1.0", 128), ("23.4.0.24.5", 128)]
)
def test_identifier_limit_follows_the_server_version(version: str, limit: int) -> None:
    engine = engine_for(FakeConnection(rules(), version=version))
    assert engine.capabilities.max_identifier_length == limit
    engine.table_sql("HR." + "X" * limit)
    with pytest.raises(ConfigError, match=f"longer than {limit} bytes"):
        engine.table_sql("HR." + "X" * (limit + 1))


def test_missing_table_has_no_columns() -> None:
    connection = FakeConnection([("ALL_TAB_COLUMNS", []), *rules()])
    with pytest.raises(TableMissingError, match=r"HR\.NOPE"):
        engine_for(connection).columns("HR.NOPE")


TYPE_MATRIX = [
    (OracleType("NUMBER", 10, 0), "integer"),
    (OracleType("NUMBER", 18, 0), "integer"),
    (OracleType("NUMBER", 19, 0), "decimal(19,0)"),
    (OracleType("NUMBER", 12, 2), "decimal(12,2)"),
    (OracleType("NUMBER", 5, -2), "integer"),
    (OracleType("NUMBER", 18, -3), "decimal(21,0)"),
    (OracleType("NUMBER", 3, 5), "decimal(5,5)"),
    (OracleType("NUMBER", None, 0), "decimal(38,0)"),
    (OracleType("NUMBER"), "decimal(38,10)"),
    (OracleType("FLOAT", 49), "float"),
    (OracleType("FLOAT", 126), "float"),
    (OracleType("BINARY_FLOAT"), "float"),
    (OracleType("BINARY_DOUBLE"), "float"),
    (OracleType("DATE"), "timestamp"),
    (OracleType("TIMESTAMP(0)", None, 0), "timestamp"),
    (OracleType("TIMESTAMP(9)", None, 9), "timestamp"),
    (OracleType("TIMESTAMP(6) WITH TIME ZONE", None, 6), "timestamp[UTC]"),
    (OracleType("TIMESTAMP(3) WITH LOCAL TIME ZONE", None, 3), "timestamp[UTC]"),
    (OracleType("CHAR"), "string"),
    (OracleType("NCHAR"), "string"),
    (OracleType("VARCHAR2"), "string"),
    (OracleType("NVARCHAR2"), "string"),
    (OracleType("CLOB"), "string"),
    (OracleType("NCLOB"), "string"),
    (OracleType("BLOB"), "binary"),
    (OracleType("RAW"), "binary"),
    (OracleType("ROWID"), "string"),
    (OracleType("INTERVAL YEAR(2) TO MONTH", 2, 0), "string"),
    (OracleType("INTERVAL DAY(2) TO SECOND(6)", 2, 6), "string"),
    (OracleType("BOOLEAN"), "boolean"),
]


@pytest.mark.parametrize(
    ("oracle_type", "logical"), TYPE_MATRIX, ids=lambda t: getattr(t, "native", t)
)
def test_type_matrix(oracle_type: OracleType, logical: str) -> None:
    reading = column_reading(oracle_type, POLICY)
    assert str(reading.logical) == logical
    assert reading.unsupported is None
    # Column.native_type is all the engine keeps: it must lead back to the same reading.
    again = column_reading(OracleType.parse(oracle_type.native), POLICY)
    assert again == reading
    if oracle_type.name in ("NUMBER", "FLOAT"):
        assert OracleType.parse(oracle_type.native) == oracle_type


@pytest.mark.parametrize(
    ("oracle_type", "select"),
    [
        (OracleType("FLOAT", 49), 'TO_BINARY_DOUBLE("X")'),
        (OracleType("FLOAT", 126), 'TO_BINARY_DOUBLE("X")'),
        (OracleType("BINARY_DOUBLE"), '"X"'),
        (OracleType("BINARY_FLOAT"), '"X"'),
    ],
    ids=lambda t: getattr(t, "native", t),
)
def test_a_number_float_is_extracted_through_the_conversion_its_canonical_text_renders(
    oracle_type: OracleType, select: str
) -> None:
    """FLOAT(b) is a NUMBER: the lake gets Oracle's own TO_BINARY_DOUBLE, the double the float
    text shows, so a conversion rounding differently from the driver's cannot raise an alarm."""
    reading = column_reading(oracle_type, POLICY)
    assert reading.select.replace("{c}", '"X"') == select
    assert "TO_BINARY_DOUBLE(" in oracle_sql.float_sql('"X"')


@pytest.mark.parametrize(
    "name", ["LONG", "LONG RAW", "BFILE", "XMLTYPE", "JSON", "VECTOR", "SDO_GEOMETRY"]
)
def test_unsupported_types_are_refused_when_used_and_can_be_mapped_away(name: str) -> None:
    connection = FakeConnection(
        [
            (
                "ALL_TAB_COLUMNS",
                [
                    ("ID", "NUMBER", 10, 0, "N", 22, 0, None),
                    ("DOC", name, None, None, "Y", 0, 0, None),
                ],
            ),
            ("COUNT(", [(Decimal(0),)]),
            *rules(),
        ]
    )
    engine = engine_for(connection)
    identifier, document = engine.columns("hr.docs")
    with pytest.raises(ConversionError, match=r"DOC.*map it to null"):
        list(engine.stream(Scope("hr.docs"), [identifier, document], 10))
    assert not [c for c in connection.calls if c.kind == "fetch_df_batches"]
    assert any(
        "cannot be moved exactly" in w
        for w in engine.fit_warnings(Scope("hr.docs"), [identifier, document])
    )
    assert list(engine.stream(Scope("hr.docs"), [identifier], 10)) == []  # mapped to null: fine


# --- results -------------------------------------------------------------------------------------
def test_query_asks_for_numbers_as_decimals() -> None:
    """Sums of NUMBER(38,10) and 60-bit hashes must not pass through a float."""

    class Cursor:
        arraysize = 7

        def var(self, kind: Any, arraysize: int) -> tuple[Any, int]:
            return kind, arraysize

    number = type("Meta", (), {"type_code": oracledb.DB_TYPE_NUMBER})()
    text = type("Meta", (), {"type_code": oracledb.DB_TYPE_VARCHAR})()
    assert oracle._numbers_as_decimals(Cursor(), number) == (Decimal, 7)
    assert oracle._numbers_as_decimals(Cursor(), text) is None


def test_statistics_keep_exact_sums() -> None:
    connection = FakeConnection(rules())
    engine = engine_for(connection)
    amount = next(c for c in all_types(engine) if c.name == "AMOUNT")
    total = Decimal("12345678901234567890.12")
    connection.rules.insert(
        0,
        (
            "COUNT(DISTINCT",
            [(Decimal(4), Decimal(3), Decimal(2), "1.00", "9.00", total, None, None)],
        ),
    )
    stats = engine.column_stats(Scope(TABLE), [amount], [amount.logical])["AMOUNT"]
    assert (stats.rows, stats.nulls, stats.distinct, stats.sum) == (
        4,
        1,
        2,
        "12345678901234567890.12",
    )


# Oracle's NUMBER arithmetic keeps 20 base-100 digits: 38 decimal ones at least, as modelled.
ORACLE_NUMBER = Context(prec=38, rounding=ROUND_HALF_UP)


def _oracle_sum(values: list[Decimal]) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = ORACLE_NUMBER.add(total, value)
    return total


@pytest.mark.parametrize(
    ("scale", "value"),
    [
        (10, "9999999999999999999999999999.9999999999"),
        (10, "-1234567890123456789012345678.0123456789"),
        (0, "99999999999999999999999999999999999999"),
        (30, "12345678.123456789012345678901234567891"),
    ],
)
def test_decimal_sums_are_exact_where_one_oracle_sum_rounds(scale: int, value: str) -> None:
    """SUM of a NUMBER(38,s) rounds past 38-40 digits where the lake's sum is exact: the
    engine sums the digits above the 18th of the unscaled value and the rest apart, each within
    38 digits (evaluated here with that rounding), and adds them exactly."""
    with localcontext(EXACT_SUMS):  # Python's own 28 digits would round this test's values
        third = Decimal(value).scaleb(-3).quantize(Decimal(1).scaleb(-scale), ROUND_DOWN)
        values = [Decimal(value), third] * 500
        exact = sum(values, Decimal(0))
        assert _oracle_sum(values) != exact  # one SUM, as before, rounds
        shift = Decimal(1).scaleb(scale - SUM_PART_DIGITS)
        highs = [(v * shift).to_integral_value(ROUND_DOWN) for v in values]  # TRUNC(x * 1E..)
        lows = [v - h.scaleb(SUM_PART_DIGITS - scale) for v, h in zip(values, highs, strict=True)]
        high, low = _oracle_sum(highs), _oracle_sum(lows)
        assert high == sum(highs) and low == sum(lows)  # neither part rounds
    assert oracle_sql.exact_sum_value(f"{high},{low}", scale) == exact
    sql = oracle_sql.exact_sum_sql('"A"', scale)
    assert f'SUM(TRUNC("A" * 1E{scale - 18}))' in sql
    assert oracle_sql.exact_sum_value(",", scale) is None  # no values: two NULL sums
    assert_oracle_sql(f"SELECT {sql} FROM T")


def test_statistics_add_the_two_parts_of_a_decimal_sum() -> None:
    connection = FakeConnection(rules())
    engine = engine_for(connection)
    amount = next(c for c in all_types(engine) if c.name == "AMOUNT")
    connection.rules.insert(
        0,
        (
            "COUNT(DISTINCT",
            [(Decimal(4), Decimal(3), Decimal(2), "1.00", "9.00", "123456,-.05", None, None)],
        ),
    )
    stats = engine.column_stats(Scope(TABLE), [amount], [amount.logical])["AMOUNT"]
    assert stats.sum == "1234559999999999999999.95"  # 123456 * 10^(18 - 2) - 0.05


def _frame(columns: list[Column], arrays: list[pa.Array]) -> pa.Table:
    return pa.table(arrays, names=[c.name for c in columns])


def test_stream_casts_fetched_arrow_to_logical_types() -> None:
    connection = FakeConnection([("COUNT(CASE", [(Decimal(0),)]), *rules()])
    engine = engine_for(connection)
    by_name = {c.name: c for c in all_types(engine)}
    columns = [by_name[n] for n in ("ID", "FREE_NUMBER", "EVENT_AT", "NOTES", "IMAGE")]
    moment = datetime(1969, 7, 20, 20, 17, 40, 123456)
    connection.frames = [
        _frame(
            columns,
            [
                pa.array([], pa.int64()),
                pa.array([], pa.decimal128(38, 10)),
                pa.array([], pa.timestamp("us")),
                pa.array([], pa.string()),
                pa.array([], pa.binary()),
            ],
        ),
        _frame(
            columns,
            [
                pa.array([1, 2], pa.int64()),
                pa.array([Decimal("1.5"), None], pa.decimal128(38, 10)),
                pa.array([moment, None], pa.timestamp("us")),
                pa.array(["", "text"], pa.string()),
                pa.array([b"", b"\x00\xff"], pa.binary()),
            ],
        ),
    ]
    batches = list(engine.stream(Scope(TABLE), columns, 1000))
    assert len(batches) == 1
    batch = batches[0]
    assert batch.schema == pa.schema([pa.field(c.name, c.logical.to_arrow()) for c in columns])
    assert batch.column(2).type == pa.timestamp("us", tz="UTC")
    assert batch.column(2)[0].as_py().replace(tzinfo=None) == moment
    assert batch.column(3).to_pylist() == [None, "text"]  # an empty CLOB is NULL, like ''
    assert batch.column(4).to_pylist() == [None, b"\x00\xff"]
    fetch = next(c for c in connection.calls if c.kind == "fetch_df_batches")
    assert fetch.binds == {"scn": SCN} and fetch.extra["size"] == 1000
    assert [f.type for f in fetch.extra["requested_schema"]] == [
        pa.int64(),
        pa.decimal128(38, 10),
        pa.timestamp("us"),
        pa.string(),
        pa.binary(),
    ]


def test_stream_refuses_finer_than_microseconds_rather_than_rounding() -> None:
    """python-oracledb cuts to microseconds when asked for them; should a driver ever hand back
    nanoseconds anyway, the cast refuses to lose them silently."""
    connection = FakeConnection([("COUNT(CASE", [(Decimal(0),)]), *rules()])
    engine = engine_for(connection)
    updated = next(c for c in all_types(engine) if c.name == "UPDATED_AT")
    connection.frames = [_frame([updated], [pa.array([1_000_000_001], pa.timestamp("ns"))])]
    with pytest.raises(ConversionError, match="UPDATED_AT"):
        list(engine.stream(Scope(TABLE), [updated], 10))


def test_stream_refuses_numbers_that_do_not_fit_the_policy_before_reading() -> None:
    connection = FakeConnection([("COUNT(CASE", [(Decimal(2),)]), *rules()])
    engine = engine_for(connection)
    free = next(c for c in all_types(engine) if c.name == "FREE_NUMBER")
    with pytest.raises(ConversionError, match=r"FREE_NUMBER: 2 value.*number_without_precision"):
        list(engine.stream(Scope(TABLE), [free], 10))
    assert not [c for c in connection.calls if c.kind == "fetch_df_batches"]


def test_comparisons_refuse_a_database_character_set_other_than_al32utf8() -> None:
    """Text is hashed and ordered as the database character set's bytes: only AL32UTF8's are
    the UTF-8 every other engine hashes. The upload converts any set and needs no check."""
    rules_ = [("NLS_DATABASE_PARAMETERS", [("WE8MSWIN1252",)]), *rules()]
    engine = engine_for(FakeConnection(rules_))
    columns = all_types(engine)[:2]
    with pytest.raises(TerminalError, match=r"character set is WE8MSWIN1252.*AL32UTF8"):
        engine.column_stats(Scope(TABLE), columns, [c.logical for c in columns])
    plan = RowPlan(tuple(columns), tuple(c.logical for c in columns), (0,), 4)
    with pytest.raises(TerminalError, match="WE8MSWIN1252"):
        list(engine.bucket_checksums(Scope(TABLE), plan))


def _too_long_for_sql_text() -> oracledb.DatabaseError:
    detail = driver_errors._Error(
        "ORA-22835: Buffer too small for CLOB to CHAR or BLOB to RAW conversion "
        "(actual: 5120, maximum: 4000)",
        code=22835,
    )
    return detail.exc_type(detail)


@pytest.mark.parametrize("step", ["statistics", "checksums", "group rows", "row texts"])
def test_a_lob_value_too_long_for_sql_text_is_named_by_its_column(step: str) -> None:
    """Oracle's error names no column: the LOB columns are then counted and the one holding
    such values named, with how many and what to do; without any, Oracle's error stands."""
    counts: list[int] = [3, 0]  # NOTES (CLOB), IMAGE (BLOB)
    connection = FakeConnection(
        [
            ("COUNT(CASE WHEN DBMS_LOB.GETLENGTH", lambda sql: [tuple(map(Decimal, counts))]),
            ("STANDARD_HASH", _too_long_for_sql_text()),  # pass 1 and pass 2
            ("COALESCE(TO_CHAR(\"ID\"), '\\N')", _too_long_for_sql_text()),  # row texts
            ("COUNT(DISTINCT", _too_long_for_sql_text()),
            *rules(),
        ]
    )
    engine = engine_for(connection)
    columns = all_types(engine)
    plan = RowPlan(tuple(columns), tuple(c.logical for c in columns), (0,), 4)
    asks: dict[str, Callable[[], object]] = {
        "statistics": lambda: engine.column_stats(
            Scope(TABLE), columns, [c.logical for c in columns]
        ),
        "checksums": lambda: list(engine.bucket_checksums(Scope(TABLE), plan)),
        "group rows": lambda: engine.group_rows(Scope(TABLE), plan, [(None, 1)]),
        "row texts": lambda: engine.row_texts(Scope(TABLE), plan, [(None, 1)], ["1"]),
    }
    with pytest.raises(
        ConversionError, match=r"3 value\(s\) are longer than 1000 characters"
    ) as raised:
        asks[step]()
    assert (raised.value.table, raised.value.column) == (TABLE, "NOTES")
    counts[:] = [0, 2]
    with pytest.raises(ConversionError, match=r"2 value\(s\) are longer than 2000 bytes") as raised:
        asks[step]()
    assert raised.value.column == "IMAGE"
    counts[:] = [0, 0]
    with pytest.raises(
        TerminalError, match=r"ORA-22835 .*widest columns: NOTES \(CLOB, "
    ) as failure:
        asks[step]()
    assert not isinstance(failure.value, ConversionError)


WIDE_TABLE = [
    ("ID", "NUMBER", 10, 0, "N", 22, 0, None),
    ("NOTE", "VARCHAR2", None, None, "Y", 4000, 4000, "B"),
    ("TITLE", "VARCHAR2", None, None, "Y", 4000, 1000, "C"),
    ("LABEL", "NVARCHAR2", None, None, "Y", 200, 100, "C"),
    ("DIGEST", "RAW", None, None, "Y", 2000, 0, None),
]


def test_a_row_text_too_long_without_lobs_names_the_widest_declared_columns() -> None:
    """ORA-01489 names no column and no LOB is to blame: the error names the widest columns by
    their declared widths (RAW as two hex digits a byte, CHAR semantics at 4 bytes a character),
    and the analyzer warns before, where the declared widths can exceed 4000 bytes."""
    detail = driver_errors._Error("ORA-01489: result of string concatenation is too long", 1489)
    connection = FakeConnection(
        [
            ("COUNT(CASE", [()]),
            ("STANDARD_HASH", detail.exc_type(detail)),
            ("ALL_TAB_COLUMNS", WIDE_TABLE),
            *rules(),
        ]
    )
    engine = engine_for(connection)
    columns = engine.columns("hr.wide")
    plan = RowPlan(tuple(columns), tuple(c.logical for c in columns), (0,), 4)
    with pytest.raises(TerminalError) as raised:
        list(engine.bucket_checksums(Scope("hr.wide"), plan))
    message = str(raised.value)
    assert message.startswith("hr.wide: ORA-01489 a value or a row's canonical text is longer")
    assert (
        "widest columns: NOTE (VARCHAR2(4000 BYTE), up to 4000 bytes), TITLE (VARCHAR2(1000 "
        "CHAR), up to 4000 bytes), DIGEST (RAW(2000), up to 4000 bytes); by the declared widths "
        "a row's text takes up to 12417 bytes" in message
    )
    assert "column_mappings.json" in message and "MAX_STRING_SIZE=EXTENDED" in message
    [warning] = engine.fit_warnings(Scope("hr.wide"), columns)
    assert warning.startswith("hr.wide: by the declared widths a row's canonical text takes up")
    assert "(ORA-01489)" in warning and "widest columns: NOTE (" in warning
    assert engine.fit_warnings(Scope("hr.wide"), [columns[0], columns[3]]) == []


@pytest.mark.parametrize(
    ("native", "most"),
    [
        ("VARCHAR2(30 BYTE)", 30),
        ("CHAR(10 CHAR)", 40),
        ("NVARCHAR2(10)", 40),
        ("RAW(16)", 32),
        ("NUMBER(12,2)", 15),
        ("NUMBER", 42),
        ("BINARY_DOUBLE", 16),
        ("CLOB", None),
        ("BLOB", None),
    ],
)
def test_declared_text_widths(native: str, most: int | None) -> None:
    assert OracleType.parse(native).text_bytes == most


# --- declared collations ----------------------------------------------------------------------------
def test_a_column_declaring_a_case_insensitive_collation_is_compared_as_bytes() -> None:
    """A column declared COLLATE BINARY_CI (12.2+, MAX_STRING_SIZE = EXTENDED) compares by it
    over the session's NLS_COMP = BINARY: MIN, MAX and DISTINCT would fold case where the lake
    does not, and a text key's IN list would match 'abc' and 'ABC' alike."""
    connection = FakeConnection(rules())
    engine = engine_for(connection)
    columns = {c.name: c for c in all_types(engine)}
    code, name = columns["CODE"], columns["NAME"]
    assert code.native_type == "VARCHAR2(20 BYTE) COLLATE BINARY_CI"
    assert name.native_type == "VARCHAR2(100 CHAR)"  # USING_NLS_COMP follows the session
    assert engine.stat_value_sql(code) == '("CODE" COLLATE BINARY)'
    assert engine.stat_value_sql(name) == '"NAME"'
    plan = RowPlan((code, name), (code.logical, name.logical), key=(0,), buckets=16)
    engine.row_texts(Scope(TABLE), plan, [(None, 3)], ["abc"])
    [texts] = [c.sql for c in connection.calls if "IN ('abc')" in c.sql]
    key_text = 'REPLACE(REPLACE(TO_CHAR(("CODE" COLLATE BINARY)), '
    assert texts.count(key_text) == 4  # key text in the select list and the IN list, bucket, value
    assert 'TO_CHAR("CODE")' not in texts and 'TO_CHAR("NAME")' in texts
    assert_oracle_sql(texts)


def test_collations_are_read_from_12_2_on_and_a_missing_collation_column_means_binary() -> None:
    old = FakeConnection(rules(), version="12.1.0.2.0")
    assert OracleType.parse(all_types(engine_for(old))[-1].native_type).collated is False
    assert not any("ALL_TAB_COLS " in c.sql for c in old.calls)
    invalid = oracledb.DatabaseError(
        oracledb_error('ORA-00904: "COLLATION": invalid identifier', 904)
    )
    patched = FakeConnection([("ALL_TAB_COLS ", invalid), *rules()])
    assert all_types(engine_for(patched))[-1].native_type == "VARCHAR2(20 BYTE)"


@pytest.mark.parametrize(
    "native",
    ["VARCHAR2(20 BYTE) COLLATE BINARY_CI", "CHAR(3 CHAR)", "NVARCHAR2(50)", "RAW(16)", "CLOB"],
)
def test_declared_lengths_and_collations_read_back_from_the_native_type(native: str) -> None:
    assert OracleType.parse(native).native == native


def test_statistics_of_wide_floats_and_nanosecond_timestamps_are_of_what_the_lake_holds() -> None:
    """Two NUMBERs one double apart, or two instants one nanosecond apart, are one value in
    the lake: counting them on the source's values would make a false statistics difference."""
    engine = engine_for(FakeConnection(rules()))
    columns = {c.name: c for c in all_types(engine)}
    assert engine.stat_value_sql(columns["WIDE_FLOAT"]) == 'TO_BINARY_DOUBLE("WIDE_FLOAT")'
    cut = engine.stat_value_sql(columns["UPDATED_AT"])
    assert "NUMTODSINTERVAL(MOD(TO_NUMBER(TO_CHAR(\"UPDATED_AT\", 'FF9')), 1000)" in cut
    assert engine.stat_value_sql(columns["RATIO"]) == '"RATIO"'


def test_fit_warnings_name_column_and_count() -> None:
    connection = FakeConnection(
        [
            ("COUNT(CASE", lambda sql: [tuple(Decimal(i) for i in range(sql.count("COUNT(CASE")))]),
            *rules(),
        ]
    )
    engine = engine_for(connection)
    columns = all_types(engine)
    warnings = engine.fit_warnings(Scope(TABLE), columns)
    assert any(
        w.startswith(f"{TABLE}.UPDATED_AT: ") and "below a microsecond" in w for w in warnings
    )
    assert any(f"{TABLE}.WIDE_FLOAT: " in w and "15 significant digits" in w for w in warnings)
    assert any(f"{TABLE}.NOTES: " in w for w in warnings)
    assert not any(w.startswith("0 value") for w in warnings)


def test_columns_read_through_a_conversion_say_so_for_the_results(tmp_path: Path) -> None:
    """align lists these beside the precision proven: a FLOAT(126) compares as the double the
    lake keeps, so a difference in its 16th digit and beyond is not seen."""
    from lakeshift.engines.duckdb import DuckDBEngine
    from lakeshift.lake.catalog import LocalCatalog
    from lakeshift.lake.storage import LakeStorage
    from lakeshift.steps.align import _precision
    from lakeshift.steps.pairing import ColumnPair
    from lakeshift.steps.session import Engines

    engine = engine_for(FakeConnection(rules()))
    columns = {c.name: c for c in all_types(engine)}
    assert "kept as a double" in " ".join(engine.conversion_notes(columns["WIDE_FLOAT"]))
    assert "finer digits are cut" in " ".join(engine.conversion_notes(columns["UPDATED_AT"]))
    assert "offsets are not kept" in " ".join(engine.conversion_notes(columns["EVENT_AT"]))
    assert engine.conversion_notes(columns["RATIO"]) == ()  # BINARY_DOUBLE is the lake's double

    pairs = [
        ColumnPair(columns[n], columns[n], columns[n].logical) for n in ("RATIO", "WIDE_FLOAT")
    ]
    storage = LakeStorage.local(tmp_path, "lake")
    lake = DuckDBEngine(LocalCatalog(storage))
    try:
        precision = _precision(Engines(engine, storage, lake), pairs)
        plain = _precision(Engines(engine, storage, lake), pairs[:1])
    finally:
        lake.close()
    assert list(precision["conversions"]) == ["WIDE_FLOAT"]
    assert "FLOAT(126)" in precision["conversions"]["WIDE_FLOAT"]
    assert "conversions" not in plain


# --- connections ---------------------------------------------------------------------------------
def test_url_forms() -> None:
    service = parse_url("oracle://scott:t%40ger@db.example:1521/?service_name=PCDS")
    assert (service.user, service.password, service.host, service.port) == (
        "scott",
        "t@ger",
        "db.example",
        1521,
    )
    assert (
        service.connect_arguments()["service_name"] == "PCDS"
        and "sid" not in service.connect_arguments()
    )
    sid = parse_url("oracle+oracledb://scott:tiger@db/ORCL?snapshot=none")
    assert (sid.sid, sid.port, sid.flashback) == ("ORCL", 1521, False)


@pytest.mark.parametrize(
    "url",
    [
        "oracle://scott:tiger@db:1521/",
        "oracle://scott:tiger@db:1521/ORCL?service_name=PCDS",
        "oracle://scott:tiger@db:1521/?service_name=PCDS&mode=sysdba",
        "oracle://scott:tiger@db:1521/?service_name=PCDS&snapshot=yes",
        "oracle://db:1521/?service_name=PCDS",
    ],
)
def test_bad_urls_say_why_without_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_url(url)
    assert "tiger" not in str(raised.value)


def test_connect_uses_thin_mode_arguments_and_hides_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    def fake_connect(**arguments: Any) -> FakeConnection:
        seen.update(arguments)
        return FakeConnection(rules())

    monkeypatch.setattr(oracledb, "connect", fake_connect)
    engine = oracle.connect(
        "oracle://scott:s3cret-pw@db:1521/?service_name=PCDS", MigrationConfig(lake=Path("x"))
    )
    assert seen == {
        "user": "scott",
        "password": "s3cret-pw",
        "host": "db",
        "port": 1521,
        "service_name": "PCDS",
    }
    assert "s3cret-pw" not in repr(engine) and oracledb.is_thin_mode()

    def refuse(**arguments: Any) -> None:
        raise oracledb.DatabaseError(
            oracledb_error(
                f"ORA-01017: invalid username/password; logon denied (tried {arguments['password']})",
                1017,
            )
        )

    monkeypatch.setattr(oracledb, "connect", refuse)
    with pytest.raises(ConfigError) as raised:
        oracle.connect(
            "oracle://scott:s3cret-pw@db:1521/?service_name=PCDS", MigrationConfig(lake=Path("x"))
        )
    assert "ORA-01017" in str(raised.value) and "s3cret-pw" not in str(raised.value)


def test_dropped_connection_is_transient_and_the_next_statement_reconnects() -> None:
    dropped = oracledb.DatabaseError(
        oracledb_error("ORA-03113: end-of-file on communication channel", 3113)
    )
    first = FakeConnection([("COUNT(*) FROM", dropped), *rules()])
    second = FakeConnection(_count_rules())
    engine = engine_for(first, reopen=lambda: second)
    with pytest.raises(TransientError, match=f"{TABLE}: .*ORA-03113"):
        engine.row_count(Scope(TABLE))
    assert engine.row_count(Scope(TABLE)) == 5
    assert second.calls[0].sql == oracle.SESSION_SQL  # the new session is prepared too
    assert second.calls[-1].binds == {"scn": SCN}  # the SCN outlives the session


def test_close_closes_the_connection() -> None:
    connection = FakeConnection(rules())
    engine_for(connection).close()
    assert connection.closed
