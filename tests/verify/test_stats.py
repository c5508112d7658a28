"""Column statistics diff: every statistic that differs is reported, floats within a tolerance."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lakeshift.engines.base import ColumnStats
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.stats import EXACT_FIELDS, StatDifference, compare_stats

FLOAT = LogicalType(Kind.FLOAT)
DECIMAL = LogicalType(Kind.DECIMAL, 12, 2)
INTEGER = LogicalType(Kind.INTEGER)
STRING = LogicalType(Kind.STRING)
TOLERANCE = 1e-9

NUMBERS = ColumnStats(
    rows=1000, nulls=10, distinct=950, min="-5.00", max="99.50", sum="12345.60", mean="12.47"
)
TEXTS = ColumnStats(
    rows=1000, nulls=0, distinct=3, min="alpha", max="gamma", min_length=5, max_length=7
)
FLOATS = ColumnStats(
    rows=100,
    nulls=0,
    distinct=100,
    min="1.0",
    max="99.0",
    sum="5050.123456789",
    mean="50.50123456789",
)

CHANGED: dict[str, object] = {
    "rows": 1001,
    "nulls": 11,
    "distinct": 949,
    "min": "-5.01",
    "max": "99.51",
    "min_length": 4,
    "max_length": 8,
}


def test_every_exact_field_has_a_changed_value_to_test() -> None:
    assert set(CHANGED) == set(EXACT_FIELDS)


def test_identical_statistics_match() -> None:
    assert compare_stats(NUMBERS, replace(NUMBERS), DECIMAL, TOLERANCE) == []
    assert compare_stats(TEXTS, replace(TEXTS), STRING, TOLERANCE) == []


@pytest.mark.parametrize("field", EXACT_FIELDS)
def test_a_difference_in_any_exact_field_is_reported(field: str) -> None:
    source, logical = (TEXTS, STRING) if field.endswith("length") else (NUMBERS, DECIMAL)
    target = replace(source, **{field: CHANGED[field]})

    differences = compare_stats(source, target, logical, TOLERANCE)

    assert differences == [StatDifference(field, getattr(source, field), CHANGED[field])]


@pytest.mark.parametrize("field", ["sum", "mean"])
def test_a_decimal_sum_or_mean_that_differs_is_reported(field: str) -> None:
    target = replace(NUMBERS, **{field: "99999.99"})
    differences = compare_stats(NUMBERS, target, DECIMAL, TOLERANCE)
    assert differences == [StatDifference(field, getattr(NUMBERS, field), "99999.99")]


def test_several_differences_are_all_reported() -> None:
    target = replace(NUMBERS, rows=1, nulls=2, sum="1.00")
    assert [d.stat for d in compare_stats(NUMBERS, target, DECIMAL, TOLERANCE)] == [
        "rows",
        "nulls",
        "sum",
    ]


def test_min_and_max_compare_as_exact_text() -> None:
    target = replace(TEXTS, min="Alpha")
    assert [d.stat for d in compare_stats(TEXTS, target, STRING, TOLERANCE)] == ["min"]


# exact numbers


@pytest.mark.parametrize(
    ("a", "b"), [("1.10", "1.1"), ("100", "100.00"), ("-0.00", "0"), ("1E+3", "1000")]
)
def test_decimal_sums_compare_numerically(a: str, b: str) -> None:
    assert compare_stats(replace(NUMBERS, sum=a), replace(NUMBERS, sum=b), DECIMAL, TOLERANCE) == []


@pytest.mark.parametrize(("a", "b"), [("1.10", "1.11"), ("100", "-100"), ("0.01", "0")])
def test_decimal_sums_compare_exactly(a: str, b: str) -> None:
    differences = compare_stats(
        replace(NUMBERS, sum=a), replace(NUMBERS, sum=b), DECIMAL, TOLERANCE
    )
    assert differences == [StatDifference("sum", a, b)]


def test_exact_sums_get_no_float_tolerance() -> None:
    # A relative difference of 1e-22: far inside the float tolerance, still a real difference.
    a, b = "10000000000000000000001", "10000000000000000000000"
    differences = compare_stats(replace(NUMBERS, sum=a), replace(NUMBERS, sum=b), INTEGER, 0.5)
    assert differences == [StatDifference("sum", a, b)]


@pytest.mark.parametrize("field", ["sum", "mean"])
def test_a_missing_sum_or_mean_on_one_side_is_reported(field: str) -> None:
    differences = compare_stats(NUMBERS, replace(NUMBERS, **{field: None}), DECIMAL, TOLERANCE)
    assert differences == [StatDifference(field, getattr(NUMBERS, field), None)]


def test_no_sum_on_either_side_matches() -> None:
    assert compare_stats(TEXTS, replace(TEXTS), STRING, TOLERANCE) == []


# floats


@pytest.mark.parametrize("field", ["sum", "mean"])
def test_float_within_the_relative_tolerance_matches(field: str) -> None:
    value = float(getattr(FLOATS, field))
    target = replace(FLOATS, **{field: repr(value * (1 + 0.5e-9))})
    assert compare_stats(FLOATS, target, FLOAT, TOLERANCE) == []


@pytest.mark.parametrize("field", ["sum", "mean"])
def test_float_outside_the_relative_tolerance_is_reported(field: str) -> None:
    value = float(getattr(FLOATS, field))
    changed = repr(value * (1 + 2e-9))
    differences = compare_stats(FLOATS, replace(FLOATS, **{field: changed}), FLOAT, TOLERANCE)
    assert differences == [StatDifference(field, getattr(FLOATS, field), changed)]


def test_float_tolerance_is_relative_to_the_magnitude() -> None:
    big = replace(FLOATS, sum="1e20")
    assert compare_stats(big, replace(FLOATS, sum="1.0000000001e20"), FLOAT, 1e-9) == []
    assert compare_stats(big, replace(FLOATS, sum="1.00000001e20"), FLOAT, 1e-9) != []


def test_zero_tolerance_requires_equal_floats() -> None:
    assert compare_stats(FLOATS, replace(FLOATS, sum="5050.123456789"), FLOAT, 0.0) == []
    assert compare_stats(FLOATS, replace(FLOATS, sum="5050.123456790"), FLOAT, 0.0) != []


@pytest.mark.parametrize(
    ("a", "b", "match"),
    [
        ("nan", "nan", True),
        ("NaN", "nan", True),
        ("nan", "0.0", False),
        ("1.5", "nan", False),
        ("inf", "inf", True),
        ("inf", "-inf", False),
        ("inf", "1e308", False),
        # MariaDB stops a DOUBLE sum that overflows at the largest double, DuckDB goes to inf
        ("1.7976931348623157e+308", "inf", True),
        ("-inf", "-1.7976931348623157e+308", True),
        ("1.7976931348623157e+308", "-inf", False),
    ],
)
def test_float_nan_and_infinity(a: str, b: str, match: bool) -> None:
    differences = compare_stats(replace(FLOATS, sum=a), replace(FLOATS, sum=b), FLOAT, TOLERANCE)
    assert (differences == []) is match


def test_means_of_sums_that_overflowed_alike_are_not_compared() -> None:
    """MariaDB's mean is its capped sum divided by the rows; DuckDB's stays inf."""
    capped = replace(FLOATS, sum="1.7976931348623157e+308", mean="8.988465674311579e+307")
    infinite = replace(FLOATS, sum="inf", mean="inf")
    assert compare_stats(capped, infinite, FLOAT, TOLERANCE) == []
    finite = replace(FLOATS, sum="1e308", mean="5e307")
    assert [d.stat for d in compare_stats(finite, infinite, FLOAT, TOLERANCE)] == ["sum", "mean"]


def _float_stats(total: float, rows: int = 3) -> ColumnStats:
    return ColumnStats(
        rows=rows,
        nulls=0,
        distinct=rows,
        min="-0.3",
        max="0.2",
        sum=repr(total),
        mean=repr(total / rows),
    )


def test_float_sums_that_cancel_tolerate_the_order_engines_add_in() -> None:
    # 0.1 + 0.2 - 0.3 added in two orders: 5.55e-17 and 2.78e-17, the same data.
    source, lake = _float_stats(5.551115123125783e-17), _float_stats(2.7755575615628914e-17)
    assert compare_stats(source, lake, LogicalType.parse("float"), 1e-9) == []


def test_float_sums_beyond_the_summation_error_still_differ() -> None:
    source, lake = _float_stats(5.551115123125783e-17), _float_stats(1e-3)
    assert [d.stat for d in compare_stats(source, lake, LogicalType.parse("float"), 1e-9)] == [
        "sum",
        "mean",
    ]


def test_a_sum_only_some_orders_of_adding_overflow_is_not_compared() -> None:
    """1e308 + 1e308 - 1e308: DuckDB's running sum goes to inf; PostgreSQL raises, and its
    sum in parts ends at 1e308. Values whose rows x largest magnitude stay below the largest
    double cannot overflow in any order: there a finite sum against inf still differs."""
    near = ColumnStats(rows=3, nulls=0, distinct=2, min="-1e+308", max="1e+308")
    source = replace(near, sum="1e+308", mean="3.333333333333333e+307")
    lake = replace(near, sum="inf", mean="inf")
    assert compare_stats(source, lake, FLOAT, TOLERANCE) == []
    assert compare_stats(replace(source, sum="-inf"), lake, FLOAT, TOLERANCE) == []
    far = replace(near, min="-1e+300", max="1e+300")
    differences = compare_stats(
        replace(far, sum="1e+300", mean="3e299"),
        replace(far, sum="inf", mean="inf"),
        FLOAT,
        TOLERANCE,
    )
    assert [d.stat for d in differences] == ["sum", "mean"]
    # the other statistics are still compared exactly
    assert [
        d.stat for d in compare_stats(source, replace(lake, max="9e+307"), FLOAT, TOLERANCE)
    ] == ["max"]
