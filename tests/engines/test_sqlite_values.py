"""SQLite's stored values converted exactly to the declared type, or refused naming table and column."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from lakeshift.engines.sqlite_values import python_value, to_arrow_array
from lakeshift.errors import ConversionError
from lakeshift.types import Kind, LogicalType

COLUMN = "main.orders.amount"
INTEGER = LogicalType(Kind.INTEGER)
FLOAT = LogicalType(Kind.FLOAT)
BOOLEAN = LogicalType(Kind.BOOLEAN)
STRING = LogicalType(Kind.STRING)
BINARY = LogicalType(Kind.BINARY)
DATE = LogicalType(Kind.DATE)
TIMESTAMP = LogicalType(Kind.TIMESTAMP)
ZONED = LogicalType(Kind.TIMESTAMP, tz="UTC")
MONEY = LogicalType(Kind.DECIMAL, 12, 2)
WIDE = LogicalType(Kind.DECIMAL, 38, 10)


@pytest.mark.parametrize(
    ("values", "logical", "expected"),
    [
        ([5, -(2**63), 2**63 - 1, None], INTEGER, [5, -(2**63), 2**63 - 1, None]),
        ([5.0, 7], INTEGER, [5, 7]),
        (
            [12.34, -0.5, 7, "12.3", "1.500", None],
            MONEY,
            [
                Decimal("12.34"),
                Decimal("-0.50"),
                Decimal("7.00"),
                Decimal("12.30"),
                Decimal("1.50"),
                None,
            ],
        ),
        (
            ["9999999999.99", "-9999999999.99"],
            MONEY,
            [Decimal("9999999999.99"), Decimal("-9999999999.99")],
        ),
        (
            ["1234567890123456789012345678.0123456789"],
            WIDE,
            [Decimal("1234567890123456789012345678.0123456789")],
        ),
        (
            [1e-10, ".5", "5.", "1E3"],
            WIDE,
            [Decimal("1E-10"), Decimal("0.5"), Decimal("5"), Decimal("1000")],
        ),
        ([1.5, 3, 2**53, None], FLOAT, [1.5, 3.0, float(2**53), None]),
        ([0, 1, None], BOOLEAN, [False, True, None]),
        (["", "  kept  ", "東京", None], STRING, ["", "  kept  ", "東京", None]),
        ([b"\x00\xff", b"", None], BINARY, [b"\x00\xff", b"", None]),
        (
            ["2024-02-29", "0005-01-01", "2024-02-29 00:00:00"],
            DATE,
            [date(2024, 2, 29), date(5, 1, 1), date(2024, 2, 29)],
        ),
        (
            ["2024-01-05 06:07:08.123456", "2024-01-05T06:07:08", "2024-01-05 06:07:08.5"],
            TIMESTAMP,
            [
                datetime(2024, 1, 5, 6, 7, 8, 123456),
                datetime(2024, 1, 5, 6, 7, 8),
                datetime(2024, 1, 5, 6, 7, 8, 500000),
            ],
        ),
        (
            ["2024-01-05 06:07:08.000001+02:00", "2024-01-05 06:07:08Z"],
            ZONED,
            [
                datetime(2024, 1, 5, 4, 7, 8, 1, tzinfo=UTC),
                datetime(2024, 1, 5, 6, 7, 8, tzinfo=UTC),
            ],
        ),
        ([None, None], MONEY, [None, None]),
        (  # no integer digit: zero fits, in every spelling SQLite may hold
            [0, 0.0, "0", "-0", "0.00000", 0.5, "-0.99999"],
            LogicalType(Kind.DECIMAL, 5, 5),
            [Decimal("0.00000")] * 5 + [Decimal("0.50000"), Decimal("-0.99999")],
        ),
    ],
)
def test_values_convert_exactly(
    values: list[Any], logical: LogicalType, expected: list[Any]
) -> None:
    array = to_arrow_array(values, logical, COLUMN)

    assert array.type == logical.to_arrow()
    assert array.to_pylist() == expected


@pytest.mark.parametrize(
    ("values", "logical", "reason"),
    [
        ([1, 1.5], INTEGER, "1.5 is not an integer"),
        ([1e20], INTEGER, "does not fit a 64-bit integer"),
        (["12abc"], INTEGER, "is not an integer"),
        ([0.001], MONEY, "0.001 has more than 2 decimal places"),
        (["0.125"], MONEY, "has more than 2 decimal places"),
        ([1.005], MONEY, "has more than 2 decimal places"),
        (["10000000000.00"], MONEY, "does not fit decimal(12,2)"),
        ([1], LogicalType(Kind.DECIMAL, 5, 5), "does not fit decimal(5,5)"),
        (["-1.00000"], LogicalType(Kind.DECIMAL, 5, 5), "does not fit decimal(5,5)"),
        (["1234567890123456789012345678.01234567891"], WIDE, "more than 10 decimal places"),
        (["1_000"], MONEY, "is not a number"),
        ([" 1.5"], MONEY, "is not a number"),
        (["Infinity"], MONEY, "is not a number"),
        (["NaN"], MONEY, "is not a number"),
        ([float("inf")], MONEY, "not a finite number"),
        ([b"1"], MONEY, "is not a number"),
        ([2**53 + 1], FLOAT, "cannot be held exactly"),
        (["1.5"], FLOAT, "is not a number"),
        (["2024-01-05 06:07:08.1234567"], TIMESTAMP, "finer than microseconds"),
        (["2024-01-05 06:07:08.123456789+00:00"], ZONED, "finer than microseconds"),
        (["2024-01-05 06:07:08+02:00"], TIMESTAMP, "has a zone offset"),
        (["2024-01-05 06:07:08Z"], TIMESTAMP, "has a zone offset"),
        (["2024-01-05 06:07:08"], ZONED, "has no zone offset"),
        ([1704434828], TIMESTAMP, "is not an ISO-8601 timestamp"),
        (["2024-01-05 06:07:08"], DATE, "has a time of day"),
        (["2024-01-05 00:00:00.000001"], DATE, "has a time of day"),
        ([20240105], DATE, "is not an ISO-8601 date"),
        # Arrow's cast reads year 0: the lake held dates no reader could, and the run passed
        (["0000-01-01", "2024-01-01"], DATE, "year 0 is out of range"),
        (["0000-02-29 00:00:00"], TIMESTAMP, "year 0 is out of range"),
        (["0001-01-01 00:00:00+01:00"], ZONED, "outside years 1 to 9999 in UTC"),
        (["9999-12-31 23:30:00-01:00"], ZONED, "outside years 1 to 9999 in UTC"),
        (["abc"], BINARY, "is not a blob"),
        ([b"ok", "abc"], BINARY, "is not a blob"),
        ([2], BOOLEAN, "is not a boolean"),
        ([-1], BOOLEAN, "is not a boolean"),
        ([1.0], BOOLEAN, "is not a boolean"),
        (["1"], BOOLEAN, "is not a boolean"),
        (["true"], BOOLEAN, "is not a boolean"),
        ([5], STRING, "is not text"),
        (["ok", 5], STRING, "is not text"),
    ],
)
def test_values_that_cannot_be_held_exactly_are_refused_naming_table_and_column(
    values: list[Any], logical: LogicalType, reason: str
) -> None:
    with pytest.raises(ConversionError) as caught:
        to_arrow_array(values, logical, COLUMN)

    error = caught.value
    assert (error.table, error.column) == ("main.orders", "amount")
    assert str(error).startswith("main.orders.amount: ")
    assert reason in str(error)
    assert str(logical) in str(error)


def test_arrow_alone_would_truncate_what_we_refuse() -> None:
    # Why decimals never take Arrow's cast: even a "safe" cast drops the third decimal place.
    assert pa.array([0.001]).cast(pa.decimal128(12, 2), safe=True).to_pylist() == [Decimal("0.00")]
    with pytest.raises(ConversionError):
        to_arrow_array([0.001], MONEY, COLUMN)


def test_the_refused_value_is_named_among_good_ones() -> None:
    with pytest.raises(ConversionError, match=r"'2024-13-01' "):
        to_arrow_array(["2024-01-01", None, "2024-13-01", "2024-02-01"], DATE, COLUMN)


def test_a_column_without_schema_names_the_table() -> None:
    with pytest.raises(ConversionError) as caught:
        to_arrow_array([1.5], INTEGER, "orders.quantity")
    assert (caught.value.table, caught.value.column) == ("orders", "quantity")


@pytest.mark.parametrize(
    ("value", "logical"),
    [(1.5, INTEGER), (0.001, MONEY), ("2024-01-05 06:07:08.1234567", TIMESTAMP), (2, BOOLEAN)],
)
def test_python_value_refuses_with_value_error(value: Any, logical: LogicalType) -> None:
    with pytest.raises(ValueError, match=repr(value).replace(".", r"\.")):
        python_value(value, logical)


def test_values_read_from_a_real_sqlite_table_are_converted_or_refused() -> None:
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE TABLE orders (qty INTEGER, amount NUMERIC(12,2), placed TIMESTAMP, paid BOOLEAN)"
    )
    connection.execute("INSERT INTO orders VALUES (3, 12.5, '2024-01-05 06:07:08.000001', 1)")
    connection.execute("INSERT INTO orders VALUES (4, 0.001, '2024-01-06 00:00:00', 0)")
    columns = list(zip(*connection.execute("SELECT * FROM orders ORDER BY qty"), strict=True))

    assert to_arrow_array(columns[0], INTEGER, "main.orders.qty").to_pylist() == [3, 4]
    assert to_arrow_array(columns[2], TIMESTAMP, "main.orders.placed").to_pylist() == [
        datetime(2024, 1, 5, 6, 7, 8, 1),
        datetime(2024, 1, 6),
    ]
    assert to_arrow_array(columns[3], BOOLEAN, "main.orders.paid").to_pylist() == [True, False]
    with pytest.raises(ConversionError, match=r"main\.orders\.amount: 0\.001 has more than 2"):
        to_arrow_array(columns[1], MONEY, "main.orders.amount")


# --- the vectorized paths agree with the exact one ---------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lakeshift.engines.sqlite_values import _fast  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.none(),
            st.floats(allow_nan=False, allow_infinity=False, width=64),
            st.decimals(places=3, min_value=-(10**6), max_value=10**6).map(float),
            st.integers(min_value=-(10**12), max_value=10**12),
        ),
        min_size=1,
        max_size=30,
    ),
    spec=st.sampled_from(["decimal(12,2)", "decimal(38,10)", "decimal(6,4)", "decimal(20,0)"]),
)
def test_the_vectorized_decimal_path_equals_the_exact_one_or_defers(
    values: list[object], spec: str
) -> None:
    logical = LogicalType.parse(spec)
    fast = _fast(values, logical)
    try:
        exact = [python_value(v, logical) for v in values]
    except ValueError:
        assert fast is None, "the fast path accepted a chunk the exact path refuses"
        return
    if fast is None:
        return  # the fast path may always defer to the exact one
    assert [None if v is None else v.scaleb(logical.scale).to_integral_value() for v in exact] == [
        None if v is None else v.scaleb(logical.scale) for v in fast.to_pylist()
    ]


def test_the_vectorized_path_is_taken_for_plain_numbers() -> None:
    for values in ([1.5, 2.25, None, -0.0], [0, 12, -7]):
        fast = _fast(values, LogicalType.parse("decimal(12,2)"))
        assert fast is not None
        assert fast.to_pylist() == [
            python_value(v, LogicalType.parse("decimal(12,2)")) for v in values
        ]


def test_booleans_other_than_0_and_1_are_not_cast_to_true() -> None:
    assert _fast([0, 1, None], LogicalType.parse("boolean")) is not None
    assert _fast([0, 2], LogicalType.parse("boolean")) is None
