"""The Oracle engine's canonical-text SQL, evaluated, against `canonical_value`.

No Oracle server runs here. Instead, the exact SQL text the engine sends is parsed with sqlglot
and evaluated by `OracleModel`, a small interpreter of the Oracle semantics that text relies on:
BINARY_DOUBLE arithmetic is IEEE double arithmetic (Python floats); NUMBER arithmetic is decimal
arithmetic rounded to 38 (or 40) significant digits; string functions treat '' as NULL, as Oracle
does. Every result is compared with the Python reference `lakeshift.verify.canonical`.

What this exercises: the formulas themselves (a typo, a wrong parenthesis, a branch in the wrong
order, the wrong byte order or case), and their robustness to what Oracle does not document: the
model is run with NUMBER results rounded half up or truncated, at 38 or 40 digits, and with
`UTL_RAW.CAST_FROM_BINARY_DOUBLE` keeping or dropping the sign of -0 and giving NaN different
bits (the float text must depend on neither). Implicit conversions the SQL should not rely on (a
NUMBER or BINARY_FLOAT handed straight to `CAST_FROM_BINARY_DOUBLE`) are refused by the model.

What this does not exercise: Oracle itself. If Oracle's functions differ from the documented
semantics modelled here (`IS NAN`, `TO_BINARY_DOUBLE` of a NUMBER giving the nearest double,
`UTL_RAW.CAST_FROM_BINARY_DOUBLE` giving the IEEE-754 bytes in the order asked, `TO_CHAR` number
formats, `STANDARD_HASH` over AL32UTF8 bytes), only a run against a live Oracle shows it;
docs/engines/oracle.md lists the statements to run.
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
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal
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
    raw_limit: int = 2000  # a SQL RAW (MAX_STRING_SIZE=STANDARD)
    # UTL_RAW.CAST_FROM_BINARY_DOUBLE of -0 and of NaN: their bits are not documented.
    negative_zero_kept: bool = True  # else -0 comes back as +0's bits
    nan_bits: int = 0x7FF8000000000000


@dataclass(frozen=True)
class BinaryFloat:
    """An Oracle BINARY_FLOAT value (held as the Python float it widens to exactly)."""

    value: float

    def __post_init__(self) -> None:
        single = struct.unpack(">f", struct.pack(">f", self.value))[0]
        assert single == self.value or math.isnan(self.value), self.value


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
        value = _unwrapped(self._eval(node.this, env))
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
        left, right = _unwrapped(left), _unwrapped(right)
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
        if not isinstance(value, Decimal):
            raise NotImplementedError("LOG of a BINARY_DOUBLE is not modelled")
        wide = Context(prec=60)
        return self._number(wide.divide(Decimal(value).ln(wide), Decimal(base).ln(wide)))

    def _anonymous(self, node: exp.Anonymous, env: dict[str, Any]) -> Any:
        name = node.name.upper()
        values = [self._eval(arg, env) for arg in node.expressions]
        value = values[0]
        if value is None:
            return None
        if name == "TO_BINARY_DOUBLE":
            # Identity for a double, exact widening of a BINARY_FLOAT, and the nearest double
            # (ties to even) of a NUMBER: Python's float(Decimal) is correctly rounded.
            return float(_unwrapped(value))
        if name == "TRUNC":
            return _truncated(value)
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
            return self._utl_raw(call.name.upper(), [self._eval(a, env) for a in call.expressions])
        assert node.this.name.upper() == "DBMS_LOB" and call.name.upper() == "SUBSTR"
        lob, amount, offset = (self._eval(arg, env) for arg in call.expressions)
        if lob is None:
            return None
        part = lob[int(offset) - 1 : int(offset) - 1 + int(amount)]
        if len(part) > self.semantics.raw_limit:
            raise OracleError("ORA-06502 raw variable length too long")
        return part or None

    def _utl_raw(self, name: str, arguments: list[Any]) -> Any:
        """UTL_RAW's casts between RAW and BINARY_DOUBLE/BINARY_FLOAT; endianness 1 (BIG_ENDIAN,
        the default) keeps IEEE-754 byte order, 2 (LITTLE_ENDIAN) reverses it."""
        value, endianness = arguments[0], int(arguments[1]) if len(arguments) > 1 else 1
        if value is None:
            return None
        if endianness not in (1, 2):  # 3 (MACHINE_ENDIAN) depends on the server: never wanted
            raise OracleError(f"model: endianness {endianness}")
        order = ">" if endianness == 1 else "<"
        if name == "CAST_FROM_BINARY_DOUBLE":
            if not isinstance(value, float):  # PL/SQL would convert; the SQL must not rely on it
                raise OracleError(f"model: implicit conversion of {value!r} to BINARY_DOUBLE")
            if math.isnan(value):
                raw = struct.pack(">Q", self.semantics.nan_bits)
            elif value == 0 and not self.semantics.negative_zero_kept:
                raw = bytes(8)
            else:
                raw = struct.pack(">d", value)
            return raw if endianness == 1 else raw[::-1]
        # The casts from RAW return +0 for -0 (documented).
        if name == "CAST_TO_BINARY_DOUBLE":
            return struct.unpack(f"{order}d", value[:8])[0] + 0.0
        assert name == "CAST_TO_BINARY_FLOAT", name
        return BinaryFloat(struct.unpack(f"{order}f", value[:4])[0] + 0.0)

    def _cast(self, node: exp.Cast, env: dict[str, Any]) -> Any:
        value = self._eval(node.this, env)
        target = node.to.this
        if value is None:
            return None
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
        return _number_text(Decimal(value), form)


_STRFTIME = {"%Y": "YYYY", "%m": "MM", "%d": "DD", "%H": "HH24", "%M": "MI", "%S": "SS"}


def _parsed_timestamp(text: str) -> Timestamp:
    stamp, fraction = text.split(".")
    return Timestamp(
        datetime.fromisoformat(stamp).replace(microsecond=int(fraction[:6])), int(fraction[6:9])
    )


def _unwrapped(value: Any) -> Any:
    """A BINARY_FLOAT compares and tests (IS NAN) as the double it widens to."""
    return value.value if isinstance(value, BinaryFloat) else value


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


def canonical_in_oracle(
    logical: LogicalType, value: Any, semantics: Semantics = Semantics(), lob: bool = False
) -> str | None:
    sql = oracle_sql.canonical_sql('"V"', logical, lob=lob)
    return OracleModel(semantics).evaluate(sql, {"V": value})


# --- floats -------------------------------------------------------------------------------------
# What Oracle leaves open about the bits of -0 and NaN; the float text must not depend on it.
FLOAT_SEMANTICS = [
    Semantics(),
    Semantics(negative_zero_kept=False, nan_bits=0xFFF8000000000000),
    Semantics(nan_bits=0x7FF0000000000001),
]


def _double(bits: int) -> float:
    return struct.unpack(">d", bits.to_bytes(8, "big"))[0]


def _single(bits: int) -> float:
    return struct.unpack(">f", bits.to_bytes(4, "big"))[0]


def _neighbours(value: float) -> list[float]:
    return [math.nextafter(value, -math.inf), value, math.nextafter(value, math.inf)]


EDGE_DOUBLES = [
    0.0,
    -0.0,
    *[_double(b) for b in (0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001)],
    *[_double(b) for b in (0x7FFFFFFFFFFFFFFF, 0xFFF0000000000001)],  # NaNs with payloads
    math.inf,
    -math.inf,
    5e-324,
    -5e-324,
    *_neighbours(_double(0x000FFFFFFFFFFFFF)),  # the largest subnormal
    *_neighbours(2.2250738585072014e-308),  # the smallest normal
    *_neighbours(1.7976931348623157e308),
    -1.7976931348623157e308,
    *_neighbours(1.0),
    -1.0,
    0.1,
    -0.1,
    0.1 + 0.2,
    1 / 3,
    123.45,
    -1.5,
    9007199254740992.0,
    9007199254740994.0,
    1e22,
    1e23,
    _single(0x3DCCCCCD),  # 0.1 as a float32, widened
    _single(0x7F7FFFFF),  # the largest float32
    _single(0x00000001),  # the smallest float32 subnormal
]


def _float_text(value: Any, semantics: Semantics = Semantics()) -> str | None:
    return canonical_in_oracle(FLOAT, value, semantics)


@pytest.mark.parametrize("value", EDGE_DOUBLES, ids=lambda v: f"{struct.pack('>d', v).hex()}")
@pytest.mark.parametrize("semantics", FLOAT_SEMANTICS, ids=["default", "zero-nan-x86", "nan-snan"])
def test_float_text_is_the_bits_on_edge_doubles(value: float, semantics: Semantics) -> None:
    assert _float_text(value, semantics) == canonical_value(value, FLOAT)


def test_float_text_pins_the_rule_on_known_values() -> None:
    """Texts written out by hand, independent of the Python reference."""
    expected = [
        (0.1, "3fb999999999999a"),
        (-2.0, "c000000000000000"),
        (5e-324, "0000000000000001"),
        (-math.inf, "fff0000000000000"),
        (1.7976931348623157e308, "7fefffffffffffff"),
        (_single(0x3DCCCCCD), "3fb99999a0000000"),
        (0.0, "0"),
        (-0.0, "0"),
        (math.nan, "NaN"),
        (None, None),
    ]
    assert [(value, _float_text(value)) for value, _ in expected] == expected


def test_float_text_of_every_power_of_two_and_its_neighbours() -> None:
    """Every binary exponent, both signs, the double on each side (12,580 distinct doubles): as
    many texts as doubles, so one ulp apart is always a different text."""
    values = [sign * x for k in range(-1074, 1024) for x in _neighbours(2.0**k) for sign in (1, -1)]
    values = [v for v in values if v != 0]  # 2^-1074's lower neighbour is 0
    model = OracleModel()
    sql = oracle_sql.canonical_sql('"V"', FLOAT)
    texts = [model.evaluate(sql, {"V": value}) for value in values]
    assert [t for v, t in zip(values, texts, strict=True) if t != canonical_value(v, FLOAT)] == []
    assert len(set(texts)) == len({struct.pack(">d", v) for v in values}) == 12580


@pytest.mark.parametrize("semantics", FLOAT_SEMANTICS, ids=["default", "zero-nan-x86", "nan-snan"])
def test_float_text_on_random_bit_patterns(semantics: Semantics) -> None:
    """Random 64-bit patterns (every exponent equally likely, NaNs and subnormals included)."""
    rng = random.Random(20240604)
    values = [_double(rng.getrandbits(64)) for _ in range(3000)]
    values += [_double(rng.getrandbits(12) << 52 | rng.getrandbits(52)) for _ in range(3000)]
    values += [_double(rng.getrandbits(1) << 63 | rng.getrandbits(52)) for _ in range(500)]
    values += [_double(0x7FF << 52 | rng.getrandbits(52)) for _ in range(100)]  # NaN payloads
    model = OracleModel(semantics)
    sql = oracle_sql.canonical_sql('"V"', FLOAT)
    failures = [v for v in values if model.evaluate(sql, {"V": v}) != canonical_value(v, FLOAT)]
    assert failures == []


def test_one_ulp_apart_is_a_different_text() -> None:
    rng = random.Random(11)
    model = OracleModel()
    sql = oracle_sql.canonical_sql('"V"', FLOAT)
    for _ in range(500):
        value = _double(rng.getrandbits(64))
        if not math.isfinite(value) or value == 0:
            continue
        for neighbour in _neighbours(value)[::2]:
            if math.isfinite(neighbour) and neighbour != 0:
                assert model.evaluate(sql, {"V": neighbour}) != canonical_value(value, FLOAT)
    assert model.evaluate(sql, {"V": 5e-324}) != model.evaluate(sql, {"V": 0.0})


def test_binary_float_renders_the_double_it_widens_to() -> None:
    """BINARY_FLOAT columns: the lake holds the float32 widened to a double (exact)."""
    rng = random.Random(3)
    patterns = [0x00000000, 0x80000000, 0x00000001, 0x007FFFFF, 0x00800000, 0x7F7FFFFF]
    patterns += [0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00001, 0x3DCCCCCD, 0xBF800000]
    patterns += [rng.getrandbits(32) for _ in range(3000)]
    model = OracleModel()
    sql = oracle_sql.canonical_sql('"V"', FLOAT)
    failures = []
    for bits in patterns:
        value = _single(bits)
        if model.evaluate(sql, {"V": BinaryFloat(value)}) != canonical_value(value, FLOAT):
            failures.append(hex(bits))
    assert failures == []


NUMBER_FLOATS = {
    # text of the NUMBER: bits of the nearest double (checked with exact fractions)
    "0.1": "3fb999999999999a",
    "9007199254740993": "4340000000000000",  # a tie: to the even 2^53, not 2^53 + 2
    "9007199254740995": "4340000000000002",  # a tie: to the even 2^53 + 4
    "-7.25e-100": "ab595f427f20b4b3",
    "1.000000000000005": "3ff0000000000017",
    "123456789012345678901234567890": "45f8ee90ff6c373e",
}


@pytest.mark.parametrize(("text", "bits"), list(NUMBER_FLOATS.items()))
def test_number_storage_renders_the_nearest_double(text: str, bits: str) -> None:
    """FLOAT(b) columns hold NUMBERs; the driver fills the lake with the nearest double, and
    TO_BINARY_DOUBLE gives that double (ties to even), so both texts agree."""
    assert canonical_value(float(text), FLOAT) == bits
    assert _float_text(Decimal(text)) == bits
    assert _float_text(Decimal(0)) == "0"


def test_number_storage_on_random_numbers() -> None:
    """Up to 38 significant digits, across NUMBER's range (1e-130 .. 1e126)."""
    rng = random.Random(5)
    model = OracleModel()
    sql = oracle_sql.canonical_sql('"V"', FLOAT)
    failures = []
    for _ in range(2000):
        digits = rng.randrange(1, 39)
        number = Decimal(rng.randrange(-(10**digits), 10**digits)).scaleb(rng.randrange(-130, 88))
        if model.evaluate(sql, {"V": number}) != canonical_value(float(number), FLOAT):
            failures.append(number)
    assert failures == []


_V = 'TO_BINARY_DOUBLE("V")'
FLOAT_MUTATIONS = {
    "little-endian bytes": (
        f"CAST_FROM_BINARY_DOUBLE({_V}, 1)",
        f"CAST_FROM_BINARY_DOUBLE({_V}, 2)",
    ),
    "uppercase hex": ("LOWER(RAWTOHEX(", "(RAWTOHEX("),
    "no zero branch": (f"WHEN {_V} = 0 THEN '0' ", ""),
    "no NaN branch": (f"WHEN {_V} IS NAN THEN 'NaN' ", ""),
    "no conversion to a double": (
        f"CAST_FROM_BINARY_DOUBLE({_V}, 1)",
        'CAST_FROM_BINARY_DOUBLE("V", 1)',
    ),
}


@pytest.mark.parametrize("mutation", list(FLOAT_MUTATIONS))
@pytest.mark.parametrize("semantics", FLOAT_SEMANTICS, ids=["default", "zero-nan-x86", "nan-snan"])
def test_float_tests_catch_a_broken_formula(mutation: str, semantics: Semantics) -> None:
    """Each plausible mistake in the SQL makes the checks above fail (a mismatch, or a conversion
    the model refuses), so passing them means something."""
    sql = oracle_sql.canonical_sql('"V"', FLOAT)
    old, new = FLOAT_MUTATIONS[mutation]
    assert old in sql
    broken = sql.replace(old, new)
    model = OracleModel(semantics)
    cases = [*EDGE_DOUBLES, BinaryFloat(0.5), Decimal("0.1")]
    caught = []
    for value in cases:
        expected = canonical_value(
            _unwrapped(float(value) if isinstance(value, Decimal) else value), FLOAT
        )
        try:
            caught.append(model.evaluate(broken, {"V": value}) != expected)
        except OracleError:
            caught.append(True)
    assert any(caught)


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


def test_semantics_variants_are_really_different() -> None:
    """The knobs change what the model computes (else the robustness runs would prove nothing)."""
    third = "1 / 3 * 3"
    assert OracleModel(Semantics(number_rounding=ROUND_DOWN)).evaluate(third, {}) != Decimal(1)
    assert replace(Semantics(), number_digits=40).number_digits == 40
    raw = 'RAWTOHEX(UTL_RAW.CAST_FROM_BINARY_DOUBLE("V", 1))'
    answers = {
        (OracleModel(s).evaluate(raw, {"V": -0.0}), OracleModel(s).evaluate(raw, {"V": math.nan}))
        for s in FLOAT_SEMANTICS
    }
    assert len(answers) == len(FLOAT_SEMANTICS)


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


def test_the_self_check_says_it_could_not_connect_apart_from_a_probe_differing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 and one line without the password, not a traceback and the 1 of a difference."""
    from lakeshift.engines.oracle_selfcheck import main

    monkeypatch.setenv("LAKESHIFT_SOURCE_URL", "oracle://u:Secret-PW-9@127.0.0.1:1/?service_name=X")
    assert main() == 2
    error = capsys.readouterr().err
    assert error.startswith("error: source oracle://u:***@127.0.0.1:1/") and "DPY-" in error
    assert "Secret-PW-9" not in error and "Traceback" not in error
