"""Oracle SQL fragments: names, canonical text per logical type, the 60-bit hash, periods.

Pure functions from SQL expressions to SQL text. The engine (`lakeshift.engines.oracle`) sends
exactly this text, and the tests evaluate it with a model of Oracle's documented semantics
against `lakeshift.verify.canonical.canonical_value`, so the two cannot drift apart silently.

Assumptions every fragment relies on (stated once, checked nowhere but on a live server):
- the database character set is AL32UTF8, so `STANDARD_HASH(text, 'MD5')` hashes the same UTF-8
  bytes as Python's `hashlib.md5(text.encode("utf-8"))`; national-character values are converted
  with `TO_CHAR` first so they hash as AL32UTF8 too;
- Oracle 18c or later (`ROUND_TIES_TO_EVEN`) for float text; 12.1 or later for `STANDARD_HASH`;
- canonical text fits a VARCHAR2: 4000 bytes, or 32767 with MAX_STRING_SIZE=EXTENDED. A longer
  value or row text fails with ORA-01489/ORA-22835, which the engine reports; nothing is cut.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lakeshift.errors import ConfigError
from lakeshift.inventory import Period, period_bounds
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import HALF_BITS, NULL_TOKEN

HALF = 1 << HALF_BITS
# log10(2) to 38 significant digits: a literal, so no per-row LOG and no doubt about its accuracy.
LOG10_2 = "0.30102999566398119521373889472449302677"
_PERIOD_FORMAT = {Period.YEAR: "YYYY", Period.MONTH: "YYYY-MM", Period.DAY: "YYYY-MM-DD"}
_PART = r'(?:"([^"]+)"|([A-Za-z][A-Za-z0-9_$#]*))'
_TABLE_NAME = re.compile(rf"{_PART}(?:\.{_PART})?")


# --- names ---------------------------------------------------------------------------------------
def quote(identifier: str) -> str:
    """A quoted identifier; Oracle has no escape for `"` inside one, so such a name is refused."""
    if '"' in identifier or not identifier:
        raise ConfigError(f"Oracle identifier {identifier!r} cannot be quoted")
    return f'"{identifier}"'


def split_name(table: str) -> tuple[str | None, str]:
    """(owner, table) as the data dictionary spells them: upper-cased unless written in quotes.

    >>> split_name('hr."Mixed Case"')
    ('HR', 'Mixed Case')
    """
    match = _TABLE_NAME.fullmatch(table.strip())
    if match is None:
        raise ConfigError(f"{table!r} is not an Oracle table name (owner.table; quotes keep case)")
    quoted_owner, owner, quoted_name, name = match.groups()
    first = quoted_owner if quoted_owner is not None else owner.upper()
    if quoted_name is None and name is None:
        return None, first
    return first, quoted_name if quoted_name is not None else name.upper()


def qualified(owner: str | None, name: str) -> str:
    return f"{quote(owner)}.{quote(name)}" if owner else quote(name)


# --- canonical text --------------------------------------------------------------------------------
def text_sql(expression: str) -> str:
    """String rule: `\\` and `|` escaped. TO_CHAR turns NCHAR/NVARCHAR2/CLOB into AL32UTF8 text."""
    return f"REPLACE(REPLACE(TO_CHAR({expression}), '\\', '\\\\'), '|', '\\|')"


def decimal_format(precision: int, scale: int) -> str:
    """An FM number format with one mandatory integer digit and exactly `scale` decimals.

    `.` (not `D`) is always a period, whatever NLS_NUMERIC_CHARACTERS says.
    >>> decimal_format(5, 2)
    'FM990.00'
    """
    integer_digits = max(precision - max(scale, 0), 1)
    text = "FM" + "9" * (integer_digits - 1) + "0"
    return text + ("." + "0" * scale if scale > 0 else "")


def binary_sql(expression: str, lob: bool = False) -> str:
    """Lowercase hex. RAWTOHEX refuses BLOBs: they go through DBMS_LOB.SUBSTR, which fails
    (never truncates) when a value is longer than a SQL RAW holds."""
    raw = f"DBMS_LOB.SUBSTR({expression}, 32767, 1)" if lob else expression
    return f"LOWER(RAWTOHEX({raw}))"


def timestamp_sql(expression: str, zoned: bool, precision: str = "microsecond") -> str:
    """`YYYY-MM-DD HH24:MI:SS.ffffff`: nine digits printed, six kept, so sub-microsecond digits are
    cut (as the driver cuts them on extraction), whatever TO_CHAR's own rounding of FF6 would do.

    At milliseconds: 500 µs added, three digits kept, three zeros appended. Cutting the
    microseconds first would not change the result: both floors land on the same millisecond.
    """
    value = f"CAST({_utc(expression, zoned)} AS TIMESTAMP(9))"
    if precision == "millisecond":
        shifted = f"TO_CHAR({_half_millisecond_later(value)}, 'YYYY-MM-DD HH24:MI:SS.FF9')"
        return f"SUBSTR({shifted}, 1, 23) || '000'"
    return f"SUBSTR(TO_CHAR({value}, 'YYYY-MM-DD HH24:MI:SS.FF9'), 1, 26)"


def _utc(expression: str, zoned: bool) -> str:
    return f"SYS_EXTRACT_UTC({expression})" if zoned else expression


def _half_millisecond_later(value: str) -> str:
    return f"({value} + INTERVAL '0.0005' SECOND)"


def float_sql(expression: str) -> str:
    """`format(x, '.14e')` of the double nearest the value; `0`, `NaN`, `Inf`, `-Inf` as specials.

    Oracle's `TO_CHAR(x, '9.99999999999999EEEE')` rounds half up on a NUMBER conversion whose
    exactness is undocumented, so the digits are computed from parts that are exact:
    the double is split as |x| = Y * 2^p with Y an integer (exact binary scaling), Y and p become
    NUMBERs (exact: integers below 2^54), and |x| * 10^(14-e) is rebuilt in NUMBER arithmetic
    (38 digits) from powers of 2 and 10 kept inside NUMBER's range; ROUND_TIES_TO_EVEN then rounds
    like Python. See docs/engines/oracle.md for the error analysis.
    """
    value = f"TO_BINARY_DOUBLE({expression})"
    return (
        f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} IS NAN THEN 'NaN' "
        f"WHEN {value} IS INFINITE THEN CASE WHEN {value} > 0 THEN 'Inf' ELSE '-Inf' END "
        f"WHEN {value} = 0 THEN '0' "
        f"ELSE CASE WHEN {value} < 0 THEN '-' END || {_magnitude_text(f'ABS({value})')} END"
    )


def _magnitude_text(magnitude: str) -> str:
    """`d.dddddddddddddde±XX` of a positive, finite BINARY_DOUBLE."""
    # Binary exponent estimate; one off next to a power of two is harmless: Y stays an integer
    # or half-integer in [2^51, 2^54), which every BINARY_DOUBLE-to-NUMBER conversion keeps exact.
    q = f"FLOOR(LOG(2, {magnitude}))"
    half = f"TRUNC({q} / 2)"
    # Two factors, so neither power of two overflows or underflows a double.
    y = f"CAST({magnitude} * POWER(2, 26 - {half}) * POWER(2, 26 + {half} - {q}) AS NUMBER)"
    p = f"(CAST({q} AS NUMBER) - 52)"  # |x| = y * 2^p exactly
    k = f"ROUND({p} * 0.30103)"  # any integer near p*log10(2): keeps 2^p * 10^-k near 1
    third, tenth = f"TRUNC({p} / 3)", f"TRUNC({k} / 3)"
    # 2^p * 10^-k in three factors inside NUMBER's range (1e-130 .. 1e126).
    cube = f"POWER(2, {third}) * POWER(10, -{tenth})"
    rest = f"POWER(2, {p} - 2 * {third}) * POWER(10, 2 * {tenth} - {k})"
    scaled = f"({y} * POWER({cube}, 2) * {rest})"  # |x| * 10^-k
    exponent = f"FLOOR(LOG(10, {y}) + {p} * {LOG10_2})"  # floor(log10 |x|)
    mantissa = f"ROUND_TIES_TO_EVEN({scaled} * POWER(10, 14 - {exponent} + {k}))"
    # 15 digits, or 16 ('1000000000000000') when rounding carried into the next power of ten;
    # one regular expression picks the matching exponent so the mantissa is computed once.
    joined = (
        f"TO_CHAR({mantissa}) || '/' || TO_CHAR({exponent}, 'FMS99999') || '/' || "
        f"TO_CHAR({exponent} + 1, 'FMS99999')"
    )
    picked = (
        f"REGEXP_REPLACE({joined}, "
        r"'^(\d)(\d{14})/([^/]+)/.*$|^(\d)(\d{14})\d/[^/]+/(.+)$', '\1\4.\2\5e\3\6')"
    )
    return rf"REGEXP_REPLACE({picked}, 'e([+-])(\d)$', 'e\10\2')"


def canonical_sql(
    expression: str, logical: LogicalType, lob: bool = False, precision: str = "microsecond"
) -> str:
    """Canonical text of `expression` (NULL stays NULL), equal to `canonical_value`; timestamps
    at `precision`."""
    kind = logical.kind
    if kind is Kind.INTEGER:
        return f"TO_CHAR({expression})"
    if kind is Kind.DECIMAL:
        assert logical.precision is not None and logical.scale is not None
        return f"TO_CHAR({expression}, '{decimal_format(logical.precision, logical.scale)}')"
    if kind is Kind.FLOAT:
        return float_sql(expression)
    if kind is Kind.BOOLEAN:
        return f"CASE WHEN {expression} IS NULL THEN NULL WHEN {expression} THEN '1' ELSE '0' END"
    if kind is Kind.STRING:
        return text_sql(expression)
    if kind is Kind.BINARY:
        return binary_sql(expression, lob)
    if kind is Kind.DATE:
        return f"TO_CHAR({expression}, 'YYYY-MM-DD')"
    return timestamp_sql(expression, logical.tz is not None, precision)


def hash60_sql(text_expression: str) -> str:
    """First 60 bits (15 hex digits) of md5 of the text, as a NUMBER."""
    digest = f"RAWTOHEX(STANDARD_HASH({text_expression}, 'MD5'))"
    return f"TO_NUMBER(SUBSTR({digest}, 1, 15), '{'X' * 15}')"


def shift_sql(expression: str) -> tuple[str, str]:
    """High and low 30-bit halves; Oracle has no `>>` or `&`, but NUMBER division is exact."""
    return f"TRUNC({expression} / {HALF})", f"MOD({expression}, {HALF})"


def null_or_text_sql(text: str) -> str:
    return f"COALESCE({text}, '{NULL_TOKEN}')"


# --- periods and literals ------------------------------------------------------------------------
def period_sql(
    expression: str, logical: LogicalType, period: Period, precision: str = "microsecond"
) -> str:
    value = _utc(expression, logical.tz is not None)
    if logical.kind is Kind.TIMESTAMP and precision == "millisecond":
        value = _half_millisecond_later(f"CAST({value} AS TIMESTAMP(9))")
    return f"TO_CHAR({value}, '{_PERIOD_FORMAT[period]}')"


def range_predicate(column: str, native_type: str, value: str, period: Period) -> str:
    """`column` within period `value`, as a range an index or partition pruning can use.

    The literal has the column's own type: a DATE column compared with a TIMESTAMP literal would
    be converted row by row, and Oracle could no longer prune on it.
    """
    bounds = period_bounds(value, period)
    if bounds is None:
        raise ConfigError(f"{column}: period {value!r} is not a date range")
    low, high = bounds
    if native_type == "DATE":
        return f"({column} >= DATE '{low}' AND {column} < DATE '{high}')"
    return f"({column} >= TIMESTAMP '{low} 00:00:00' AND {column} < TIMESTAMP '{high} 00:00:00')"


def timestamp_literal(value: datetime) -> str:
    """A TIMESTAMP literal of the moment in UTC (naive values are taken as UTC)."""
    moment = value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return f"TIMESTAMP '{moment.isoformat(sep=' ', timespec='microseconds')}'"
