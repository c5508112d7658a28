"""The logical type system: text form, Arrow form, compatibility and the common comparison type."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lakeshift.types import Kind, LogicalType, common_type, compatibility

EVERY_TYPE = [
    LogicalType(Kind.INTEGER),
    LogicalType(Kind.DECIMAL, 12, 2),
    LogicalType(Kind.DECIMAL, 38, 0),
    LogicalType(Kind.DECIMAL, 38, 10),
    LogicalType(Kind.DECIMAL, 60, 20),
    LogicalType(Kind.FLOAT),
    LogicalType(Kind.BOOLEAN),
    LogicalType(Kind.STRING),
    LogicalType(Kind.BINARY),
    LogicalType(Kind.DATE),
    LogicalType(Kind.TIMESTAMP),
    LogicalType(Kind.TIMESTAMP, tz="UTC"),
    LogicalType(Kind.TIMESTAMP, tz="Europe/Paris"),
]


def _decimal(precision: int, scale: int) -> LogicalType:
    return LogicalType(Kind.DECIMAL, precision, scale)


def test_every_kind_is_covered_by_the_round_trip_cases() -> None:
    assert {t.kind for t in EVERY_TYPE} == set(Kind)


@pytest.mark.parametrize("logical", EVERY_TYPE, ids=str)
def test_text_form_parses_back_to_the_same_type(logical: LogicalType) -> None:
    assert LogicalType.parse(str(logical)) == logical


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("decimal(12,2)", _decimal(12, 2)),
        (" decimal(12, 2) ", _decimal(12, 2)),
        ("timestamp", LogicalType(Kind.TIMESTAMP)),
        ("timestamp[UTC]", LogicalType(Kind.TIMESTAMP, tz="UTC")),
        ("integer", LogicalType(Kind.INTEGER)),
    ],
)
def test_parse_reads_the_text_form(text: str, expected: LogicalType) -> None:
    assert LogicalType.parse(text) == expected


@pytest.mark.parametrize("text", ["varchar", "decimal(12)", "decimal", "int"])
def test_parse_refuses_unknown_text(text: str) -> None:
    with pytest.raises(ValueError):
        LogicalType.parse(text)


@pytest.mark.parametrize("logical", EVERY_TYPE, ids=str)
def test_arrow_form_reads_back_to_the_same_type(logical: LogicalType) -> None:
    assert LogicalType.from_arrow(logical.to_arrow()) == logical


@pytest.mark.parametrize(
    ("logical", "arrow"),
    [
        (_decimal(12, 2), pa.decimal128(12, 2)),
        (_decimal(38, 10), pa.decimal128(38, 10)),
        (_decimal(39, 10), pa.decimal256(39, 10)),
        (LogicalType(Kind.TIMESTAMP), pa.timestamp("us")),
        (LogicalType(Kind.TIMESTAMP, tz="UTC"), pa.timestamp("us", tz="UTC")),
        (LogicalType(Kind.INTEGER), pa.int64()),
        (LogicalType(Kind.FLOAT), pa.float64()),
        (LogicalType(Kind.DATE), pa.date32()),
    ],
)
def test_to_arrow_is_exact_and_keeps_microseconds(logical: LogicalType, arrow: pa.DataType) -> None:
    assert logical.to_arrow() == arrow


@pytest.mark.parametrize(
    ("arrow", "kind"),
    [
        (pa.int8(), Kind.INTEGER),
        (pa.uint32(), Kind.INTEGER),
        (pa.float32(), Kind.FLOAT),
        (pa.large_string(), Kind.STRING),
        (pa.large_binary(), Kind.BINARY),
        (pa.date64(), Kind.DATE),
        (pa.timestamp("ns"), Kind.TIMESTAMP),
        (pa.bool_(), Kind.BOOLEAN),
    ],
)
def test_from_arrow_reads_every_width_of_a_kind(arrow: pa.DataType, kind: Kind) -> None:
    assert LogicalType.from_arrow(arrow).kind is kind


def test_from_arrow_refuses_types_without_a_logical_type() -> None:
    with pytest.raises(ValueError, match="time64"):
        LogicalType.from_arrow(pa.time64("us"))


def test_only_numbers_are_numeric() -> None:
    numeric = {t.kind for t in EVERY_TYPE if t.is_numeric}
    assert numeric == {Kind.INTEGER, Kind.DECIMAL, Kind.FLOAT}


# compatibility


@pytest.mark.parametrize("logical", EVERY_TYPE, ids=str)
def test_a_type_is_compatible_with_itself(logical: LogicalType) -> None:
    assert compatibility(logical, logical) is None


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (_decimal(12, 2), _decimal(12, 1)),  # fewer decimal places
        (_decimal(12, 2), _decimal(11, 2)),  # fewer integer digits
        (_decimal(12, 2), _decimal(13, 4)),  # more places, but fewer integer digits
        (_decimal(38, 0), _decimal(38, 10)),
    ],
)
def test_a_narrower_decimal_target_is_reported(source: LogicalType, target: LogicalType) -> None:
    problem = compatibility(source, target)
    assert problem is not None
    assert str(source) in problem and str(target) in problem


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (_decimal(12, 2), _decimal(14, 4)),
        (_decimal(12, 2), _decimal(13, 2)),
        (_decimal(5, 0), _decimal(38, 10)),
    ],
)
def test_a_wider_decimal_target_is_fine(source: LogicalType, target: LogicalType) -> None:
    assert compatibility(source, target) is None


@pytest.mark.parametrize("target", [_decimal(19, 0), _decimal(38, 0), _decimal(25, 6)])
def test_integer_into_a_decimal_with_19_integer_digits_is_fine(target: LogicalType) -> None:
    assert compatibility(LogicalType(Kind.INTEGER), target) is None


@pytest.mark.parametrize(
    ("source", "fits"),
    [
        (_decimal(18, 0), True),
        (_decimal(10, 0), True),
        (_decimal(19, 0), False),
        (_decimal(10, 2), False),
    ],
)
def test_a_whole_decimal_of_up_to_18_digits_fits_an_integer(
    source: LogicalType, fits: bool
) -> None:
    """A numeric(10,0) column read into a bigint lake column holds every value exactly."""
    assert (compatibility(source, LogicalType(Kind.INTEGER)) is None) is fits


@pytest.mark.parametrize(
    "target", [_decimal(18, 0), _decimal(10, 0), _decimal(20, 5), _decimal(38, 20)]
)
def test_integer_into_a_decimal_with_fewer_integer_digits_is_reported(target: LogicalType) -> None:
    problem = compatibility(LogicalType(Kind.INTEGER), target)
    assert problem is not None
    assert "64-bit integer" in problem


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (LogicalType(Kind.TIMESTAMP, tz="UTC"), LogicalType(Kind.TIMESTAMP)),
        (LogicalType(Kind.TIMESTAMP), LogicalType(Kind.TIMESTAMP, tz="UTC")),
    ],
)
def test_time_zone_against_none_is_reported(source: LogicalType, target: LogicalType) -> None:
    problem = compatibility(source, target)
    assert problem is not None
    assert "time zone" in problem


def test_two_zoned_timestamps_are_compatible() -> None:
    zoned = LogicalType(Kind.TIMESTAMP, tz="UTC")
    assert compatibility(LogicalType(Kind.TIMESTAMP, tz="+02:00"), zoned) is None


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (LogicalType(Kind.INTEGER), LogicalType(Kind.FLOAT)),
        (LogicalType(Kind.FLOAT), _decimal(38, 10)),
        (_decimal(10, 2), LogicalType(Kind.INTEGER)),
        (LogicalType(Kind.DATE), LogicalType(Kind.TIMESTAMP)),
        (LogicalType(Kind.STRING), LogicalType(Kind.BINARY)),
        (LogicalType(Kind.BOOLEAN), LogicalType(Kind.INTEGER)),
    ],
)
def test_a_different_kind_is_reported(source: LogicalType, target: LogicalType) -> None:
    problem = compatibility(source, target)
    assert problem == f"source is {source}, target is {target}"


# common_type


@given(
    st.integers(1, 38).flatmap(lambda p: st.tuples(st.just(p), st.integers(0, p))),
    st.integers(1, 38).flatmap(lambda p: st.tuples(st.just(p), st.integers(0, p))),
)
def test_common_decimal_holds_every_value_of_both_sides(
    source: tuple[int, int], target: tuple[int, int]
) -> None:
    a, b = _decimal(*source), _decimal(*target)
    common = common_type(a, b)
    assert common.kind is Kind.DECIMAL
    assert compatibility(a, common) is None
    assert compatibility(b, common) is None
    assert common == common_type(b, a)


def test_common_decimal_is_no_wider_than_needed() -> None:
    assert common_type(_decimal(10, 2), _decimal(8, 4)) == _decimal(12, 4)


def test_common_type_of_integer_and_decimal_is_the_decimal() -> None:
    assert common_type(LogicalType(Kind.INTEGER), _decimal(38, 2)) == _decimal(38, 2)


def test_common_type_of_other_pairs_is_the_source_type() -> None:
    zoned = LogicalType(Kind.TIMESTAMP, tz="UTC")
    assert common_type(zoned, LogicalType(Kind.TIMESTAMP)) == zoned
    assert common_type(LogicalType(Kind.FLOAT), LogicalType(Kind.FLOAT)) == LogicalType(Kind.FLOAT)


def test_years_1_to_9999_are_checked_on_dates_and_microsecond_timestamps() -> None:
    from datetime import date, datetime

    import pyarrow as pa
    import pytest

    from lakeshift.types import in_years_1_to_9999

    assert in_years_1_to_9999(pa.array([date(1, 1, 1), date(9999, 12, 31), None]))
    assert in_years_1_to_9999(pa.array([None], pa.date32()))
    year_0 = pa.array([-719163], pa.int32()).cast(pa.date32())  # the day before 0001-01-01
    assert not in_years_1_to_9999(year_0)
    moments = pa.array([datetime(9999, 12, 31, 23, 59, 59, 999999)], pa.timestamp("us", "UTC"))
    assert in_years_1_to_9999(moments)
    past = pa.array([253402300800 * 10**6], pa.int64()).cast(pa.timestamp("us"))  # 10000-01-01
    assert not in_years_1_to_9999(past)
    with pytest.raises(TypeError):
        in_years_1_to_9999(pa.array([1], pa.timestamp("ns")))
