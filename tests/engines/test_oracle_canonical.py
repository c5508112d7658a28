"""The Oracle engine's canonical-text SQL, evaluated, against `canonical_value`.

No Oracle server runs here. Instead, the exact SQL text the engine sends is parsed with sqlglot
and evaluated by `OracleModel`, a small interpreter of the Oracle semantics that text relies on:
BINARY_DOUBLE arithmetic is IEEE double arithmetic (Python floats); NUMBER arithmetic is decimal
arithmetic rounded to 38 (or 40) significant digits; string functions treat '' as NULL, as Oracle
does. Every result is compared with the Python reference `lakeshift.verify.canonical`.

What this exercises: the formulas themselves (a typo, a wrong parenthesis, a rounding that differs
from Python's), their range (no NUMBER overflow or underflow from 5e-324 to 1.8e308), and their
robustness to what Oracle does not document: the model is run with NUMBER results rounded half up
or truncated, at 38 or 40 digits, with binary LOG results a few ulps off (which moves FLOOR at
powers of two), with NUMBER LOG results off by 1e-34, and with BINARY_DOUBLE-to-NUMBER conversion
either exact or by shortest round-trip text (the formula only converts values for which both
agree, and the model refuses any other conversion).

What this does not exercise: Oracle itself. If Oracle's functions differ from the documented
semantics modelled here (`IS NAN`, `ROUND_TIES_TO_EVEN`, `REGEXP_REPLACE` back-references to
groups that did not take part, `TO_CHAR` number formats, `STANDARD_HASH` over AL32UTF8 bytes),
only a run against a live Oracle shows it; docs/engines/oracle.md lists the statements to run.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from lakeshift.engines import oracle_sql
from lakeshift.engines.oracle_types import OracleType, column_reading
from lakeshift.inventory import Period
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import canonical_value, hash60

FLOAT = LogicalType(Kind.FLOAT)
WIDE = Context(prec=200)  # exact for every value these tests meet; never Python's 28 digits


@functools.lru_cache(maxsize=64)
def _parsed(sql: str) -> exp.Expression:
    return sqlglot.parse_one(f"SELECT {sql} FROM DUAL", read="oracle").expressions[0]


# --- the model ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Semantics:
    """The parts of Oracle's behaviour the documentation leaves open, as knobs."""

    number_digits: int = 38
    number_rounding: str = ROUND_HALF_UP
    binary_log_ulps: int = 0  # added to every BINARY_DOUBLE LOG result
    number_log_error: Decimal = Decimal(0)  # relative error of NUMBER LOG results
    raw_limit: int = 2000  # a SQL RAW (MAX_STRING_SIZE=STANDARD)


@dataclass(frozen=True)
class Timestamp:
    """An Oracle DATE/TIMESTAMP value: wall time, digits below the microsecond, zone offset."""

    local: datetime
    nanos: int = 0
    offset: timedelta | None = None


class OracleError(Exception):
    pass


class OracleModel:
    """Evaluates one SQL expression (as sqlglot parses Oracle) over bound column values."""

    def __init__(self, semantics: Semantics = Semantics()):
        self.semantics = semantics
        self.context = Context(prec=semantics.number_digits, rounding=semantics.number_rounding)

    def evaluate(self, sql: str, values: Mapping[str, Any]) -> Any:
        return self._eval(_parsed(sql), dict(values))

    # NUMBER values stay inside Oracle's range or the statement fails, as on the server.
    def _number(self, value: Decimal) -> Decimal:
        value = self.context.plus(value)
        if value and not Decimal("1e-130") <= value.copy_abs() < Decimal("1e126"):
            raise OracleError(f"NUMBER out of range: {value}")
        return value

    def _eval(self, node: exp.Expression, env: dict[str, Any]) -> Any:
        handler = getattr(self, f"_{type(node).__name__.lower()}", None)
        if handler is None:
            raise NotImplementedError(f"model has no {type(node).__name__}: {node.sql('oracle')}")
        return handler(node, env)

    def _args(self, node: exp.Expression, env: dict[str, Any], *names: str) -> list[Any]:
        return [self._eval(node.args[name], env) if node.args.get(name) else None for name in names]

    # literals, columns, structure
    def _column(self, node: exp.Column, env: dict[str, Any]) -> Any:
        return env[node.name]

    def _literal(self, node: exp.Literal, env: dict[str, Any]) -> Any:
        if node.is_string:
            return node.this or None  # '' is NULL
        return Decimal(node.this)

    def _null(self, node: exp.Null, env: dict[str, Any]) -> None:
        return None

    def _paren(self, node: exp.Paren, env: dict[str, Any]) -> Any:
        return self._eval(node.this, env)

    def _case(self, node: exp.Case, env: dict[str, Any]) -> Any:
        for branch in node.args["ifs"]:
            if self._eval(branch.this, env) is True:
                return self._eval(branch.args["true"], env)
        default = node.args.get("default")
        return None if default is None else self._eval(default, env)

    def _is(self, node: exp.Is, env: dict[str, Any]) -> bool:
        value = self._eval(node.this, env)
        test = node.expression
        if isinstance(test, exp.Null):
            return value is None
        name = test.name.upper()
        if name == "NAN":
            return isinstance(value, float) and math.isnan(value)
        if name == "INFINITE":
            return isinstance(value, float) and math.isinf(value)
        raise NotImplementedError(name)

    def _compare(self, node: exp.Expression, env: dict[str, Any], test: Callable) -> bool | None:
        left, right = self._eval(node.this, env), self._eval(node.expression, env)
        if left is None or right is None:
            return None
        if isinstance(left, float) or isinstance(right, float):
            left, right = float(left), float(right)
        return bool(test(left, right))

    def _eq(self, node: exp.EQ, env: dict[str, Any]) -> bool | None:
        return self._compare(node, env, lambda a, b: a == b)

    def _neq(self, node: exp.NEQ, env: dict[str, Any]) -> bool | None:
        return self._compare(node, env, lambda a, b: a != b)

    def _lt(self, node: exp.LT, env: dict[str, Any]) -> bool | None:
        return self._compare(node, env, lambda a, b: a < b)

    def _gt(self, node: exp.GT, env: dict[str, Any]) -> bool | None:
        return self._compare(node, env, lambda a, b: a > b)

    def _gte(self, node: exp.GTE, env: dict[str, Any]) -> bool | None:
        return self._compare(node, env, lambda a, b: a >= b)

    def _or(self, node: exp.Or, env: dict[str, Any]) -> bool | None:
        left, right = self._eval(node.this, env), self._eval(node.expression, env)
        if left is True or right is True:
            return True
        return None if left is None or right is None else False

    # arithmetic: BINARY_DOUBLE wins over NUMBER, as Oracle's implicit conversion rules say
    def _arith(self, node: exp.Expression, env: dict[str, Any], op: str) -> Any:
        left, right = self._eval(node.this, env), self._eval(node.expression, env)
        if left is None or right is None:
            return None
        if isinstance(left, float) or isinstance(right, float):
            a, b = float(left), float(right)
            return {"+": a + b, "-": a - b, "*": a * b}.get(op) if op != "/" else a / b
        method = {
            "+": self.context.add,
            "-": self.context.subtract,
            "*": self.context.multiply,
            "/": self.context.divide,
        }[op]
        return self._number(method(left, right))

    def _add(self, node: exp.Add, env: dict[str, Any]) -> Any:
        return self._arith(node, env, "+")

    def _sub(self, node: exp.Sub, env: dict[str, Any]) -> Any:
        return self._arith(node, env, "-")

    def _mul(self, node: exp.Mul, env: dict[str, Any]) -> Any:
        return self._arith(node, env, "*")

    def _div(self, node: exp.Div, env: dict[str, Any]) -> Any:
        return self._arith(node, env, "/")

    def _neg(self, node: exp.Neg, env: dict[str, Any]) -> Any:
        value = self._eval(node.this, env)
        if value is None:
            return None
        return -value if isinstance(value, float) else value.copy_negate()

    def _abs(self, node: exp.Abs, env: dict[str, Any]) -> Any:
        value = self._eval(node.this, env)
        if value is None:
            return None
        return abs(value) if isinstance(value, float) else value.copy_abs()

    def _floor(self, node: exp.Floor, env: dict[str, Any]) -> Any:
        value = self._eval(node.this, env)
        if isinstance(value, float):
            return float(math.floor(value))
        return value.to_integral_value(rounding=ROUND_FLOOR)

    def _trunc(self, node: exp.Expression, env: dict[str, Any]) -> Any:
        return _truncated(self._eval(node.this, env))

    def _round(self, node: exp.Round, env: dict[str, Any]) -> Any:
        value, places = self._args(node, env, "this", "decimals")
        quantum = Decimal(1).scaleb(-int(places or 0))
        return self._number(Decimal(value).quantize(quantum, ROUND_HALF_UP, WIDE))

    def _mod(self, node: exp.Mod, env: dict[str, Any]) -> Any:
        left, right = self._eval(node.this, env), self._eval(node.expression, env)
        return self._number(WIDE.remainder(left, right))  # sign of the dividend, as Oracle

    def _log(self, node: exp.Log, env: dict[str, Any]) -> Any:
        base, value = self._eval(node.this, env), self._eval(node.expression, env)
        if isinstance(value, float):
            result = math.log2(value) if base == 2 else math.log10(value)
            step = math.inf if self.semantics.binary_log_ulps > 0 else -math.inf
            for _ in range(abs(self.semantics.binary_log_ulps)):
                result = math.nextafter(result, step)
            return result
        wide = Context(prec=60)
        exact = wide.divide(Decimal(value).ln(wide), Decimal(base).ln(wide))
        return self._number(exact * (1 + self.semantics.number_log_error))

    def _pow(self, node: exp.Pow, env: dict[str, Any]) -> Any:
        base, power = self._eval(node.this, env), self._eval(node.expression, env)
        if isinstance(base, float) or isinstance(power, float):
            return float(base) ** float(power)
        return self._number(self.context.power(base, int(power)))

    def _anonymous(self, node: exp.Anonymous, env: dict[str, Any]) -> Any:
        name = node.name.upper()
        values = [self._eval(arg, env) for arg in node.expressions]
        value = values[0]
        if value is None:
            return None
        if name == "TO_BINARY_DOUBLE":
            return float(value)  # correctly rounded from a NUMBER, identity for a double
        if name == "TRUNC":
            return _truncated(value)
        if name == "ROUND_TIES_TO_EVEN":
            return self._number(value.quantize(Decimal(1), ROUND_HALF_EVEN, WIDE))
        if name == "RAWTOHEX":
            if len(value) > self.semantics.raw_limit:
                raise OracleError("ORA-06502 raw too long")
            return value.hex().upper() or None
        if name == "HEXTORAW":
            return bytes.fromhex(value)
        if name == "TO_TIMESTAMP_TZ":
            stamp, zone = value.rsplit(" ", 1)
            sign = -1 if zone.startswith("-") else 1
            hours, minutes = zone[1:].split(":")
            offset = sign * timedelta(hours=int(hours), minutes=int(minutes))
            return replace(_parsed_timestamp(stamp), offset=offset)
        if name == "SYS_EXTRACT_UTC":
            return Timestamp(value.local - (value.offset or timedelta()), value.nanos)
        raise NotImplementedError(name)

    def _placeholder(self, node: exp.Placeholder, env: dict[str, Any]) -> Any:
        return env[f":{node.name}"]

    def _strtotime(self, node: exp.StrToTime, env: dict[str, Any]) -> Timestamp | None:
        """TO_TIMESTAMP(text, 'YYYY-MM-DD HH24:MI:SS.FF9') (sqlglot rewrote the format)."""
        text = self._eval(node.this, env)
        return None if text is None else _parsed_timestamp(text)

    def _dot(self, node: exp.Dot, env: dict[str, Any]) -> Any:
        call = node.expression
        if node.this.name.upper() == "UTL_RAW":
            assert call.name.upper() == "CAST_TO_BINARY_DOUBLE"
            raw = self._eval(call.expressions[0], env)
            return struct.unpack(">d", raw)[0]
        assert node.this.name.upper() == "DBMS_LOB" and call.name.upper() == "SUBSTR"
        lob, amount, offset = (self._eval(arg, env) for arg in call.expressions)
        if lob is None:
            return None
        part = lob[int(offset) - 1 : int(offset) - 1 + int(amount)]
        if len(part) > self.semantics.raw_limit:
            raise OracleError("ORA-06502 raw variable length too long")
        return part or None

    def _cast(self, node: exp.Cast, env: dict[str, Any]) -> Any:
        value = self._eval(node.this, env)
        target = node.to.this
        if value is None:
            return None
        if target == exp.DataType.Type.DECIMAL:
            if isinstance(value, float):
                exact, shortest = Decimal(value), Decimal(repr(value))
                if exact != shortest:  # the formula must never depend on which one Oracle does
                    raise OracleError(f"conversion of {value!r} to NUMBER is not exact")
                return self._number(exact)
            return value
        if target == exp.DataType.Type.TIMESTAMP:
            return Timestamp(value.local, value.nanos)
        return str(value)

    # text
    def _dpipe(self, node: exp.DPipe, env: dict[str, Any]) -> str | None:
        left, right = self._eval(node.this, env), self._eval(node.expression, env)
        return (str(left or "") + str(right or "")) or None

    def _coalesce(self, node: exp.Coalesce, env: dict[str, Any]) -> Any:
        for argument in [node.this, *node.expressions]:
            value = self._eval(argument, env)
            if value is not None:
                return value
        return None

    def _replace(self, node: exp.Replace, env: dict[str, Any]) -> str | None:
        text, old, new = self._args(node, env, "this", "expression", "replacement")
        return None if text is None else text.replace(old, new or "") or None

    def _regexpreplace(self, node: exp.RegexpReplace, env: dict[str, Any]) -> str | None:
        text, pattern, replacement = self._args(node, env, "this", "expression", "replacement")
        if text is None:
            return None
        python = re.sub(r"\\(\d)", r"\\g<\1>", replacement)  # Oracle: \1..\9, one digit
        return re.sub(pattern, python, text) or None

    def _lower(self, node: exp.Lower, env: dict[str, Any]) -> str | None:
        value = self._eval(node.this, env)
        return None if value is None else value.lower()

    def _substring(self, node: exp.Substring, env: dict[str, Any]) -> str | None:
        text, start, length = self._args(node, env, "this", "start", "length")
        if text is None:
            return None
        return text[int(start) - 1 : int(start) - 1 + int(length)] or None

    def _standardhash(self, node: exp.StandardHash, env: dict[str, Any]) -> bytes | None:
        text = self._eval(node.this, env)
        # The database character set is AL32UTF8: the hashed bytes are the UTF-8 bytes.
        return None if text is None else hashlib.md5(text.encode("utf-8")).digest()

    def _tonumber(self, node: exp.ToNumber, env: dict[str, Any]) -> Decimal | None:
        text, form = self._args(node, env, "this", "format")
        if text is None:
            return None
        if form is None:
            return Decimal(text)
        assert set(form) == {"X"} and len(text) <= len(form)
        return Decimal(int(text, 16))

    def _timetostr(self, node: exp.TimeToStr, env: dict[str, Any]) -> str | None:
        """TO_CHAR of a value sqlglot knows is a timestamp; it rewrote the format to strftime."""
        value, form = self._args(node, env, "this", "format")
        oracle_form = re.sub("%[YmdHMS]", lambda m: _STRFTIME[m.group(0)], form)
        return None if value is None else _datetime_text(value, oracle_form)

    def _tochar(self, node: exp.ToChar, env: dict[str, Any]) -> str | None:
        value, form = self._args(node, env, "this", "format")
        if value is None:
            return None
        if isinstance(value, Timestamp):
            return _datetime_text(value, form)
        if isinstance(value, str):
            return value
        if form is None:
            assert value == value.to_integral_value(), "TO_CHAR(n) is used on integers only"
            return str(int(value))
        if form == "FMS99999":
            return ("-" if value < 0 else "+") + str(abs(int(value)))
        return _number_text(Decimal(value), form)


_STRFTIME = {"%Y": "YYYY", "%m": "MM", "%d": "DD", "%H": "HH24", "%M": "MI", "%S": "SS"}


def _parsed_timestamp(text: str) -> Timestamp:
    stamp, fraction = text.split(".")
    return Timestamp(
        datetime.fromisoformat(stamp).replace(microsecond=int(fraction[:6])), int(fraction[6:9])
    )


def _truncated(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float):
        return float(math.trunc(value))
    return value.to_integral_value(rounding=ROUND_DOWN)


def _number_text(value: Decimal, form: str) -> str:
    """TO_CHAR(n, 'FM99990.00'): rounded half away from zero; '#' when the digits do not fit."""
    match = re.fullmatch(r"FM(9*)0(?:\.(0+))?", form)
    assert match, form
    scale = len(match.group(2) or "")
    rounded = value.quantize(Decimal(1).scaleb(-scale), ROUND_HALF_UP, WIDE)
    text = format(rounded.copy_abs(), "f")
    if len(text.split(".")[0]) > len(match.group(1)) + 1:
        return "#" * (len(form) - 1)
    return ("-" if rounded < 0 else "") + text


def _datetime_text(value: Timestamp, form: str) -> str | None:
    moment = value.local
    parts = {
        "YYYY": f"{moment.year:04d}",
        "MM": f"{moment.month:02d}",
        "DD": f"{moment.day:02d}",
        "HH24": f"{moment.hour:02d}",
        "MI": f"{moment.minute:02d}",
        "SS": f"{moment.second:02d}",
        "FF9": f"{moment.microsecond:06d}{value.nanos:03d}",
    }
    return re.sub("YYYY|HH24|FF9|MM|DD|MI|SS", lambda m: parts[m.group(0)], form) or None


SEMANTICS = [
    Semantics(),
    Semantics(number_digits=40, number_rounding=ROUND_DOWN),
    Semantics(binary_log_ulps=3, number_log_error=Decimal("1e-34")),
    Semantics(binary_log_ulps=-3, number_log_error=Decimal("-1e-34"), number_rounding=ROUND_DOWN),
]


def canonical_in_oracle(
    logical: LogicalType, value: Any, semantics: Semantics = Semantics(), lob: bool = False
) -> str | None:
    sql = oracle_sql.canonical_sql('"V"', logical, lob=lob)
    return OracleModel(semantics).evaluate(sql, {"V": value})


# --- floats -------------------------------------------------------------------------------------
def _double(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def _near_ties(rng: random.Random, count: int) -> list[float]:
    """Doubles nearest to 16-digit decimals ending in 5: where rounding the exact binary value
    and rounding its 17-digit text disagree most often."""
    values = []
    for _ in range(count):
        digits = rng.randrange(10**14, 10**15)
        values.append(float(f"{digits}5e{rng.randrange(-320, 290)}"))
    return values


TRICKY_FLOATS = [
    0.0,
    -0.0,
    math.nan,
    math.inf,
    -math.inf,
    1e-300,
    -1e-300,
    1e300,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    2.225073858507201e-308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    0.1,
    0.2,
    0.3,
    1 / 3,
    2 / 3,
    123.45,
    -123.45,
    1.0,
    10.0,
    1000.0,
    999.9999999999999,
    1e15,
    1e16,
    1e22,
    1e23,
    9.999999999999999e22,
    999999999999999.5,
    999999999999998.5,
    1234567890123445.0,
    1234567890123455.0,
    2.0**-22,
    12345678901234.25,
    0.5,
    2.5,
    9007199254740993.0,
    4.35,
    1.000000000000005,
    1.000000000000015,
    8.5,
    0.1 + 0.2,
    299792458.0,
    6.02214076e23,
    1.602e-19,
    struct.unpack("<f", struct.pack("<f", 0.1))[0],
    struct.unpack("<f", struct.pack("<f", 3.4e38))[0],
    *[2.0**k for k in range(-1074, 1024, 61)],
    *[10.0**k for k in range(-320, 309, 23)],
]


@pytest.mark.parametrize("value", TRICKY_FLOATS, ids=repr)
@pytest.mark.parametrize("semantics", SEMANTICS, ids=lambda s: repr(s)[10:60])
def test_float_text_equals_python_format_on_tricky_values(
    value: float, semantics: Semantics
) -> None:
    assert canonical_in_oracle(FLOAT, value, semantics) == canonical_value(value, FLOAT)


def test_float_text_equals_python_format_on_random_doubles() -> None:
    """Random bit patterns (every magnitude, subnormals included) and values next to ties."""
    rng = random.Random(20240604)
    values = [_double(rng.getrandbits(64)) for _ in range(1500)] + _near_ties(rng, 1500)
    values += [round(rng.uniform(-1e6, 1e6), rng.randrange(0, 9)) for _ in range(500)]
    model = OracleModel(Semantics(number_rounding=ROUND_DOWN))
    sql = oracle_sql.canonical_sql('"V"', FLOAT)
    results = [(value, model.evaluate(sql, {"V": value})) for value in values]
    failures = [(v, got) for v, got in results if got != canonical_value(v, FLOAT)]
    assert failures == []


def test_float_text_of_number_storage_goes_through_the_nearest_double() -> None:
    """FLOAT(b) columns hold NUMBERs; the lake holds the nearest double. Both texts agree even
    when the decimal itself is a tie the double is not."""
    for text in ["0.1", "1.000000000000005", "123456789012345678901234567890", "-7.25e-100"]:
        assert canonical_in_oracle(FLOAT, Decimal(text)) == canonical_value(float(text), FLOAT)


def test_model_rejects_a_formula_that_would_depend_on_undocumented_conversion() -> None:
    """The model is strict: converting 0.1 to NUMBER has two plausible results, so it refuses."""
    with pytest.raises(OracleError):
        OracleModel().evaluate('CAST("V" AS NUMBER)', {"V": 0.1})


# --- exact types ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("precision", "scale", "value"),
    [
        (38, 10, "1234567890123456789012345678.0123456789"),
        (38, 10, "-0.0000000001"),
        (38, 38, "0.12345678901234567890123456789012345678"),
        (38, 0, "-99999999999999999999999999999999999999"),
        (5, 2, "-0.5"),
        (5, 2, "0"),
        (5, 2, "-0.00"),  # a NUMBER has no negative zero; the lake's -0.00 prints as 0.00 too
        (12, 2, "1e3"),
        (3, 5, "0.00123"),
    ],
)
def test_decimal_text_is_fixed_point_at_the_scale(precision: int, scale: int, value: str) -> None:
    logical = LogicalType(Kind.DECIMAL, precision, scale)
    number = Decimal(value) if Decimal(value) != 0 else Decimal(0)
    assert canonical_in_oracle(logical, number) == canonical_value(Decimal(value), logical)


def test_decimal_that_does_not_fit_its_format_cannot_pass_for_another_value() -> None:
    logical = LogicalType(Kind.DECIMAL, 5, 2)
    assert canonical_in_oracle(logical, Decimal("12345.67")) == "#######"


@pytest.mark.parametrize("value", [0, -1, 42, 999999999999999999, -999999999999999999])
def test_integer_text(value: int) -> None:
    logical = LogicalType(Kind.INTEGER)
    assert canonical_in_oracle(logical, Decimal(value)) == canonical_value(value, logical)


@pytest.mark.parametrize(
    "text", ["plain", "a|b", "back\\slash", "\\N", "NULL", "  padded CHAR   ", "ünïcødé 漢字 🚀"]
)
def test_string_text_escapes_like_python(text: str) -> None:
    logical = LogicalType(Kind.STRING)
    assert canonical_in_oracle(logical, text) == canonical_value(text, logical)


def test_empty_string_is_null_on_both_sides() -> None:
    """Oracle stores '' as NULL, so the lake (filled from Oracle) holds NULL: both render NULL."""
    logical = LogicalType(Kind.STRING)
    assert canonical_in_oracle(logical, None) is None
    assert canonical_value(None, logical) is None


@pytest.mark.parametrize("lob", [False, True])
def test_binary_text_is_lowercase_hex(lob: bool) -> None:
    logical = LogicalType(Kind.BINARY)
    value = bytes(range(256))[:200]
    assert canonical_in_oracle(logical, value, lob=lob) == canonical_value(value, logical)


def test_blob_longer_than_a_raw_fails_instead_of_being_cut() -> None:
    with pytest.raises(OracleError):
        canonical_in_oracle(LogicalType(Kind.BINARY), b"x" * 2001, lob=True)


TIMESTAMPS = [
    (datetime(1969, 12, 31, 23, 59, 59, 999999), 999),  # before 1970, sub-microsecond digits
    (datetime(1, 1, 1), 0),
    (datetime(9999, 12, 31, 23, 59, 59, 999999), 500),
    (datetime(2024, 2, 29, 12, 0, 0, 1), 0),
    (datetime(1900, 3, 1, 0, 0, 0), 1),
]


@pytest.mark.parametrize(("moment", "nanos"), TIMESTAMPS)
def test_naive_timestamp_text_cuts_below_microseconds(moment: datetime, nanos: int) -> None:
    """The driver floors TIMESTAMP(9) to microseconds; the canonical text must cut the same way."""
    logical = LogicalType(Kind.TIMESTAMP)
    assert canonical_in_oracle(logical, Timestamp(moment, nanos)) == canonical_value(
        moment, logical
    )


@pytest.mark.parametrize("minutes", [0, 330, -480, 845])
def test_zoned_timestamp_text_is_utc(minutes: int) -> None:
    logical = LogicalType(Kind.TIMESTAMP, tz="UTC")
    utc = datetime(1969, 12, 31, 22, 30, 15, 123456)
    offset = timedelta(minutes=minutes)
    stored = Timestamp(utc + offset, 789, offset)
    expected = canonical_value(utc.replace(tzinfo=UTC).astimezone(timezone(offset)), logical)
    assert canonical_in_oracle(logical, stored) == expected


@pytest.mark.parametrize("period", list(Period))
@pytest.mark.parametrize("zoned", [False, True])
def test_period_text_is_the_prefix_of_the_canonical_timestamp(period: Period, zoned: bool) -> None:
    logical = LogicalType(Kind.TIMESTAMP, tz="UTC" if zoned else None)
    offset = timedelta(hours=-5) if zoned else None
    stored = Timestamp(datetime(1999, 12, 31, 20, 0), 0, offset)
    model = OracleModel()
    period_text = model.evaluate(oracle_sql.period_sql('"V"', logical, period), {"V": stored})
    full = model.evaluate(oracle_sql.canonical_sql('"V"', logical), {"V": stored})
    assert period_text == full[: {Period.YEAR: 4, Period.MONTH: 7, Period.DAY: 10}[period]]
    assert zoned == (
        period_text
        != {Period.YEAR: "1999", Period.MONTH: "1999-12", Period.DAY: "1999-12-31"}[period]
    )


# --- hashes -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "\\N", "a|b\\|c", "ünï 🚀", "x" * 3000])
def test_hash60_equals_python(text: str) -> None:
    model = OracleModel()
    sql = oracle_sql.hash60_sql('"T"')
    bound = text or "\\N"  # Oracle cannot hold '': a row text always has at least one column
    assert model.evaluate(sql, {"T": bound}) == hash60(bound)


@pytest.mark.parametrize(
    "value", [0, 1, 2**30 - 1, 2**30, (5 << 30) + 2**30 - 1, 2**60 - 1, hash60("row")]
)
def test_halves_recombine_to_the_hash(value: int) -> None:
    model = OracleModel()
    high, low = oracle_sql.shift_sql('"H"')
    hi, lo = model.evaluate(high, {"H": Decimal(value)}), model.evaluate(low, {"H": Decimal(value)})
    assert (int(hi) << 30) + int(lo) == value
    assert 0 <= int(hi) < 2**30 and 0 <= int(lo) < 2**30


# --- checks the analyzer runs --------------------------------------------------------------------
def _check_sql(native: str, index: int = 0) -> str:
    reading = column_reading(OracleType.parse(native), LogicalType.parse("decimal(38,10)"))
    return reading.checks[index].sql.replace("{c}", '"V"')


@pytest.mark.parametrize(
    ("value", "fits"),
    [
        ("1.5", True),
        ("1234567890123456789012345678.1234567891", True),
        ("1e28", False),
        ("123456789012345678901234567.12345678912", False),
        ("-9999999999999999999999999999.9999999999", True),
        ("0.00000000001", False),
        ("0", True),
    ],
)
def test_number_policy_check_flags_exactly_what_does_not_fit(value: str, fits: bool) -> None:
    flagged = OracleModel(Semantics(number_digits=40)).evaluate(
        _check_sql("NUMBER"), {"V": Decimal(value)}
    )
    assert (flagged is None) == fits


@pytest.mark.parametrize(
    ("value", "flagged"),
    [
        ("0.1", False),
        ("123456789012345", False),
        ("1234567890123456", True),
        ("0.12345678901234567", True),
        ("0", False),
    ],
)
def test_wide_float_check_flags_more_than_15_significant_digits(value: str, flagged: bool) -> None:
    result = OracleModel().evaluate(_check_sql("FLOAT(126)"), {"V": Decimal(value)})
    assert (result is not None) == flagged


@pytest.mark.parametrize(("nanos", "flagged"), [(0, False), (1, True), (999, True)])
def test_sub_microsecond_check(nanos: int, flagged: bool) -> None:
    sql = _check_sql("TIMESTAMP(9)")
    value = Timestamp(datetime(2024, 1, 1, 0, 0, 0, 5), nanos)
    result = OracleModel().evaluate(sql, {"V": value})
    assert (result is not None) == flagged


def test_number_policy_check_agrees_with_what_arrow_accepts() -> None:
    """The check blocks extraction exactly when decimal128(38,10) could not hold the value."""
    import pyarrow as pa

    rng = random.Random(7)
    sql = _check_sql("NUMBER")
    model = OracleModel(Semantics(number_digits=40))
    for _ in range(300):
        value = Decimal(f"{rng.randrange(-(10**30), 10**30)}e{rng.randrange(-14, 2)}")
        try:
            pa.array([value], pa.decimal128(38, 10))
            arrow_fits = True
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrow_fits = False
        assert (model.evaluate(sql, {"V": value}) is None) == arrow_fits, value


# --- the same fragments on a real engine ---------------------------------------------------------
def _one(connection: duckdb.DuckDBPyConnection, sql: str, parameters: list[Any]) -> Any:
    row = connection.execute(sql, parameters).fetchone()
    assert row is not None
    return row[0]


def test_string_escape_runs_the_same_on_duckdb() -> None:
    """sqlglot translates the string rule to DuckDB faithfully (REPLACE of REPLACE), so a real
    engine checks it too. (Its translation of TO_NUMBER(.., 'XXX') is a DOUBLE cast and of
    TO_CHAR(date, format) a plain cast, so hashes and dates are checked by the model only.)"""
    logical = LogicalType(Kind.STRING)
    sql = oracle_sql.canonical_sql("v", logical).replace("TO_CHAR(v)", "v")
    translated = sqlglot.transpile(f"SELECT {sql} FROM t", read="oracle", write="duckdb")[0]
    connection = duckdb.connect()
    for text in ["a|b", "back\\slash\\|", "plain", "ünï"]:
        connection.execute("CREATE OR REPLACE TABLE t AS SELECT ? AS v", [text])
        assert _one(connection, translated, []) == canonical_value(text, logical)


def test_exponent_regex_runs_the_same_on_duckdb() -> None:
    """The two REGEXP_REPLACE steps of the float text, on RE2 (another regex engine), agree with
    the model on both branches: 15 digits, and the 16-digit carry into the next power of ten."""
    float_sql = oracle_sql.float_sql('"V"')
    steps = re.findall(r"'(\^[^']*)', '([^']*)'|'(e\(\[\+-\]\)[^']*)', '([^']*)'", float_sql)
    (first, first_to, _, _), (_, _, second, second_to) = steps
    connection = duckdb.connect()
    for joined, expected in [
        ("123450000000000/+2/+3", "1.23450000000000e+02"),
        ("1000000000000000/-1/+0", "1.00000000000000e+00"),
        ("999999999999999/+300/+301", "9.99999999999999e+300"),
    ]:
        picked = _one(connection, "SELECT regexp_replace(?, ?, ?)", [joined, first, first_to])
        final = _one(connection, "SELECT regexp_replace(?, ?, ?)", [picked, second, second_to])
        assert final == expected


def test_semantics_variants_are_really_different() -> None:
    """The knobs change what the model computes (else the robustness runs would prove nothing)."""
    assert (
        OracleModel(Semantics(binary_log_ulps=-3)).evaluate('FLOOR(LOG(2, "V"))', {"V": 8.0}) == 2.0
    )
    assert OracleModel().evaluate('FLOOR(LOG(2, "V"))', {"V": 8.0}) == 3.0
    third = "1 / 3 * 3"
    assert OracleModel(Semantics(number_rounding=ROUND_DOWN)).evaluate(third, {}) != Decimal(1)
    assert replace(Semantics(), number_digits=40).number_digits == 40


# --- the live self-check, run against the model ----------------------------------------------------
class ModelCursor:
    arraysize = 100

    def __init__(self, model: OracleModel | None):
        self.model = model
        self.rows: list[tuple[Any, ...]] = []
        self.outputtypehandler: Any = None

    def execute(self, sql: str, binds: Any = None) -> None:
        """`SELECT <rendering> FROM (SELECT <conversion of :v> AS "V" FROM DUAL)`, evaluated."""
        if self.model is None or sql.startswith("ALTER SESSION"):
            self.rows = [("wrong",)]
            return
        tree = sqlglot.parse_one(sql, read="oracle")
        inner = next(tree.find_all(exp.Subquery)).this.expressions[0]
        value = self.model._eval(inner.this, {":v": binds[0]})
        self.rows = [(self.model._eval(tree.expressions[0], {"V": value}),)]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def close(self) -> None:
        pass


class ModelConnection:
    version = "19.3.0.0.0"

    def __init__(self, model: OracleModel | None):
        self.model = model

    def cursor(self) -> ModelCursor:
        return ModelCursor(self.model)

    def close(self) -> None:
        pass


def test_live_self_check_agrees_with_the_model() -> None:
    """The probes `python -m lakeshift.engines.oracle_selfcheck` sends to a live server: every
    one evaluates, in the model, to the Python reference; a server answering otherwise is named."""
    from lakeshift.engines.oracle import OracleEngine
    from lakeshift.engines.oracle_selfcheck import probes, run

    assert len(probes()) > 30
    agreeing = OracleEngine(ModelConnection(OracleModel()), LogicalType.parse("decimal(38,10)"))
    assert run(agreeing) == []
    wrong = OracleEngine(ModelConnection(None), LogicalType.parse("decimal(38,10)"))
    problems = run(wrong)
    assert len(problems) == len(probes())
    assert problems[0].startswith("float 0.0: Oracle says 'wrong', Python says '0'")
