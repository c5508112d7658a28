"""Oracle column types: how each is read, what it becomes, and what cannot be kept exactly.

One table of rules per Oracle type name (the differences as data, not branches in the engine).
A `ColumnReading` says everything the engine needs about one column: its logical type, the
select-list expression that extracts it, the Arrow type asked from python-oracledb's Arrow fetch,
the expression statistics are computed on, the conversions logged once per column, and the
checks that count values which cannot be kept exactly (the analyzer's warnings).

Decisions (docs/engines/oracle.md has the full matrix):
- NUMBER(p,s) is decimal(p,s); scale <= 0 holds integers, so NUMBER(p,s<=0) is integer when
  p - s <= 18 digits and decimal(p - s, 0) otherwise (Parquet has no negative scales);
  NUMBER(p,s>p) is decimal(s,s); NUMBER(*,0) (INTEGER) is decimal(38,0); NUMBER without
  precision follows `number_without_precision` and is checked before it is extracted.
- FLOAT(b) is a float (a double): b binary digits are ceil(b * 0.30103) decimal digits, which a
  double keeps exactly up to 15 digits (b <= 49); wider FLOATs are flagged by a check.
- DATE has a time of day: a timestamp. TIMESTAMP(7..9) keeps microseconds (flagged when finer).
  WITH (LOCAL) TIME ZONE becomes UTC through SYS_EXTRACT_UTC.
- Empty CLOB/BLOB values become NULL, like '' in every other character type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from lakeshift.types import Kind, LogicalType

MAX_INTEGER_DIGITS = 18  # every 18-digit number fits a 64-bit integer
EXACT_FLOAT_BITS = 49  # FLOAT(49) has ceil(49 * 0.30103) = 15 digits, which a double keeps
INLINE_TEXT_CHARACTERS = 1000  # 4000 bytes at up to 4 bytes a character (AL32UTF8)
INLINE_RAW_BYTES = 2000
_NUMBER = re.compile(r"(NUMBER|FLOAT)\((\*|\d+)(?:,(-?\d+))?\)")
_SIZED = re.compile(
    r"(CHAR|VARCHAR2|NCHAR|NVARCHAR2|RAW)\((\d+)(?: (BYTE|CHAR))?\)(?: COLLATE (\S+))?"
)
_FRACTION = re.compile(r"TIMESTAMP\((\d)\)")
CHARACTER_TYPES = frozenset({"CHAR", "VARCHAR2", "NCHAR", "NVARCHAR2"})
# Collations that order and compare as bytes in lakeshift's session (NLS_SORT = BINARY,
# NLS_COMP = BINARY); a column declared with any other (BINARY_CI, BINARY_AI, USING_NLS_SORT_CI,
# a linguistic one) compares by it whatever the session says.
BINARY_COLLATIONS = frozenset({"BINARY", "USING_NLS_COMP", "USING_NLS_SORT"})
UTF8_BYTES_PER_CHARACTER = 4  # AL32UTF8; a national character converted to it takes as many
# Canonical text bytes of types without a declared length, at most (a NUMBER's 40 digits with
# sign and point, a float's 16 hex digits, a DATE's 26 characters; 40 for the other types).
_TEXT_BYTES = {"NUMBER": 42, "FLOAT": 16, "BINARY_FLOAT": 16, "BINARY_DOUBLE": 16, "DATE": 26}


@dataclass(frozen=True)
class OracleType:
    """A column type as ALL_TAB_COLUMNS describes it (DATA_TYPE, DATA_PRECISION, DATA_SCALE)."""

    name: str
    precision: int | None = None
    scale: int | None = None
    length: int | None = (
        None  # CHAR, VARCHAR2: in `semantics`; NCHAR, NVARCHAR2: characters; RAW: bytes
    )
    semantics: str | None = None  # BYTE or CHAR, for CHAR and VARCHAR2
    collation: str | None = None  # declared collation (12.2+), kept only when not binary

    @classmethod
    def of_catalog(
        cls,
        data_type: str,
        precision: int | None,
        scale: int | None,
        data_length: int | None = None,
        char_length: int | None = None,
        char_used: str | None = None,
        collation: str | None = None,
    ) -> OracleType:
        """A column as ALL_TAB_COLUMNS (and ALL_TAB_COLS' COLLATION) describe it."""
        length, semantics = None, None
        if data_type in ("CHAR", "VARCHAR2"):
            semantics = "CHAR" if char_used == "C" else "BYTE"
            length = char_length if semantics == "CHAR" else data_length
        elif data_type in ("NCHAR", "NVARCHAR2"):
            length = char_length
        elif data_type == "RAW":
            length = data_length
        collated = data_type in CHARACTER_TYPES and collation not in (None, *BINARY_COLLATIONS)
        if length is None:
            semantics = None
        return cls(data_type, precision, scale, length, semantics, collation if collated else None)

    @property
    def native(self) -> str:
        """The type as written in DDL, e.g. `NUMBER(12,2)`, `NUMBER(*,0)`, `FLOAT(126)`,
        `VARCHAR2(20 CHAR)`, `RAW(16)`, `VARCHAR2(20 BYTE) COLLATE BINARY_CI`."""
        if self.name == "NUMBER" and (self.precision is not None or self.scale is not None):
            precision = "*" if self.precision is None else str(self.precision)
            return f"NUMBER({precision},{self.scale or 0})"
        if self.name == "FLOAT" and self.precision is not None:
            return f"FLOAT({self.precision})"
        if self.length is None:
            return self.name
        unit = f" {self.semantics}" if self.semantics else ""
        collate = f" COLLATE {self.collation}" if self.collation else ""
        return f"{self.name}({self.length}{unit}){collate}"

    @classmethod
    def parse(cls, native: str) -> OracleType:
        """Read back `native` (Column.native_type holds it)."""
        sized = _SIZED.fullmatch(native)
        if sized is not None:
            name, length, semantics, collation = sized.groups()
            return cls(name, None, None, int(length), semantics, collation)
        match = _NUMBER.fullmatch(native)
        if match is None:
            return cls(native)
        precision = None if match.group(2) == "*" else int(match.group(2))
        scale = int(match.group(3)) if match.group(3) is not None else None
        return cls(match.group(1), precision, scale)

    @property
    def collated(self) -> bool:
        """Whether comparisons of the column follow a collation of its own, not bytes."""
        return self.collation is not None

    @property
    def text_bytes(self) -> int | None:
        """The most bytes the column's canonical text takes, before `\\` and `|` are escaped
        (None: a LOB, as long as its values); from the declared length where there is one."""
        if self.name == "RAW" and self.length is not None:
            return 2 * self.length  # two hex digits a byte
        if self.length is not None:
            per_unit = 1 if self.semantics == "BYTE" else UTF8_BYTES_PER_CHARACTER
            return self.length * per_unit
        if self.name in ("CLOB", "NCLOB", "BLOB"):
            return None
        if self.name in CHARACTER_TYPES:
            return 4000
        if self.name == "NUMBER" and self.precision is not None:
            return max(self.precision, self.scale or 0) + 3  # sign, point, a leading 0
        return _TEXT_BYTES.get(self.name, 40)

    @property
    def fraction_digits(self) -> int:
        match = _FRACTION.match(self.name)
        return int(match.group(1)) if match else 0


@dataclass(frozen=True)
class FitCheck:
    """SQL that is 1 for a value which cannot be kept exactly (else NULL), and what that means."""

    sql: str  # template: {c} is the quoted column
    message: str  # template: {rows} is the number of such values
    blocks_extraction: bool = False
    too_long: bool = False  # finds values compare and align cannot render as SQL text


@dataclass(frozen=True)
class ColumnReading:
    logical: LogicalType
    fetch: pa.DataType  # the Arrow type python-oracledb is asked for
    select: str = "{c}"
    stats: str = "{c}"  # the value statistics (MIN, MAX, DISTINCT, LENGTH) are computed on
    lob: bool = False
    notes: tuple[str, ...] = ()
    checks: tuple[FitCheck, ...] = field(default_factory=tuple)
    unsupported: str | None = None


def _fetch_type(logical: LogicalType) -> pa.DataType:
    """Timestamps are fetched naive (SYS_EXTRACT_UTC already made them UTC) and tagged after."""
    return pa.timestamp("us") if logical.kind is Kind.TIMESTAMP else logical.to_arrow()


def _reading(logical: LogicalType, **options: object) -> ColumnReading:
    return ColumnReading(logical, _fetch_type(logical), **options)  # type: ignore[arg-type]


def _fits_decimal(logical: LogicalType) -> FitCheck:
    precision, scale = logical.precision or 38, logical.scale or 0
    return FitCheck(
        f"CASE WHEN {{c}} <> ROUND({{c}}, {scale}) OR ABS({{c}}) >= 1E{precision - scale} "
        "THEN 1 END",
        f"{{rows}} value(s) of this NUMBER without precision do not fit {logical}; "
        "set number_without_precision in migration_config.cfg to a decimal(p,s) that holds them",
        blocks_extraction=True,
    )


def _number(oracle: OracleType, number_policy: LogicalType) -> ColumnReading:
    precision, scale = oracle.precision, oracle.scale
    if precision is None and scale is None:
        note = f"NUMBER without precision read as {number_policy} (number_without_precision)"
        return _reading(number_policy, notes=(note,), checks=(_fits_decimal(number_policy),))
    precision = 38 if precision is None else precision  # NUMBER(*,s)
    scale = scale or 0
    if scale <= 0:
        digits = precision - scale  # NUMBER(5,-2) holds integers of up to 7 digits
        if digits <= MAX_INTEGER_DIGITS:
            return _reading(LogicalType(Kind.INTEGER))
        return _reading(LogicalType(Kind.DECIMAL, digits, 0))
    return _reading(LogicalType(Kind.DECIMAL, max(precision, scale), scale))


# FLOAT(b) is a NUMBER: extraction converts it with the same TO_BINARY_DOUBLE the canonical text
# renders, so the lake holds the very double the source's text shows, whether or not Oracle's
# conversion rounds exactly like the driver's would.
_AS_DOUBLE = "TO_BINARY_DOUBLE({c})"


def _float(oracle: OracleType, number_policy: LogicalType) -> ColumnReading:
    bits = oracle.precision or 126
    if bits <= EXACT_FLOAT_BITS:
        return _reading(LogicalType(Kind.FLOAT), select=_AS_DOUBLE)
    widest = "CASE WHEN {c} = 0 THEN NULL WHEN {c} <> ROUND({c}, 14 - FLOOR(LOG(10, ABS({c})))) THEN 1 END"
    return _reading(
        LogicalType(Kind.FLOAT),
        select=_AS_DOUBLE,
        # counted and ordered as the doubles the lake holds: two NUMBERs one double apart
        # are one value there
        stats=_AS_DOUBLE,
        notes=(f"FLOAT({bits}) holds up to {-(-bits * 30103 // 100000)} digits; kept as a double",),
        checks=(
            FitCheck(
                widest,
                "{rows} value(s) have more than 15 significant digits, "
                "more than a double keeps exactly",
            ),
        ),
    )


def _binary_float(oracle: OracleType, number_policy: LogicalType) -> ColumnReading:
    return _reading(LogicalType(Kind.FLOAT))


def _timestamp(oracle: OracleType, number_policy: LogicalType) -> ColumnReading:
    zoned = "TIME ZONE" in oracle.name
    logical = LogicalType(Kind.TIMESTAMP, tz="UTC" if zoned else None)
    notes: list[str] = []
    checks: list[FitCheck] = []
    if zoned:
        notes.append(f"{oracle.name} converted to UTC (SYS_EXTRACT_UTC); offsets are not kept")
    stats = "{c}"
    if oracle.fraction_digits > 6:
        notes.append(f"{oracle.name} read at microseconds; finer digits are cut")
        # counted and ordered cut to microseconds, as the lake holds them
        stats = "({c} - NUMTODSINTERVAL(MOD(TO_NUMBER(TO_CHAR({c}, 'FF9')), 1000) / 1e9, 'SECOND'))"
        checks.append(
            FitCheck(
                "CASE WHEN MOD(TO_NUMBER(TO_CHAR({c}, 'FF9')), 1000) <> 0 THEN 1 END",
                "{rows} value(s) have digits below a microsecond, which Parquet timestamps drop",
            )
        )
    select = "SYS_EXTRACT_UTC({c})" if zoned else "{c}"
    return _reading(logical, select=select, stats=stats, notes=tuple(notes), checks=tuple(checks))


def _date(oracle: OracleType, number_policy: LogicalType) -> ColumnReading:
    return _reading(LogicalType(Kind.TIMESTAMP), notes=("DATE has a time of day: a timestamp",))


def _text(oracle: OracleType, number_policy: LogicalType) -> ColumnReading:
    # National types are compared after conversion to AL32UTF8, whose binary order is code
    # point order, as the lake's; AL16UTF16's order differs for characters above U+FFFF.
    national = oracle.name.startswith("N")
    return _reading(LogicalType(Kind.STRING), stats="TO_CHAR({c})" if national else "{c}")


def _empty_lob(what: str) -> FitCheck:
    return FitCheck(
        "CASE WHEN DBMS_LOB.GETLENGTH({c}) = 0 THEN 1 END",
        f"{{rows}} empty {what} value(s) are stored as NULL, as Oracle stores ''",
    )


def _clob(oracle: OracleType, number_policy: LogicalType) -> ColumnReading:
    long_text = FitCheck(
        f"CASE WHEN DBMS_LOB.GETLENGTH({{c}}) > {INLINE_TEXT_CHARACTERS} THEN 1 END",
        f"{{rows}} value(s) are longer than {INLINE_TEXT_CHARACTERS} characters: compare and "
        "align render values as VARCHAR2 (4000 bytes, or 32767 with MAX_STRING_SIZE=EXTENDED) "
        "and fail on longer ones; map the column to null to leave it out of them",
        too_long=True,
    )
    return _reading(
        LogicalType(Kind.STRING),
        stats="TO_CHAR({c})",
        lob=True,
        notes=("empty LOB values stored as NULL",),
        checks=(long_text, _empty_lob(oracle.name)),
    )


def _blob(oracle: OracleType, number_policy: LogicalType) -> ColumnReading:
    long_value = FitCheck(
        f"CASE WHEN DBMS_LOB.GETLENGTH({{c}}) > {INLINE_RAW_BYTES} THEN 1 END",
        f"{{rows}} value(s) are longer than {INLINE_RAW_BYTES} bytes: compare and align "
        "render values as RAW and fail on longer ones; map the column to null to leave it out",
        too_long=True,
    )
    return _reading(
        LogicalType(Kind.BINARY),
        stats="DBMS_LOB.SUBSTR({c}, 32767, 1)",
        lob=True,
        notes=("empty LOB values stored as NULL",),
        checks=(long_value, _empty_lob("BLOB")),
    )


def _raw(oracle: OracleType, number_policy: LogicalType) -> ColumnReading:
    return _reading(LogicalType(Kind.BINARY))


def _rowid(oracle: OracleType, number_policy: LogicalType) -> ColumnReading:
    text = "ROWIDTOCHAR({c})" if oracle.name == "ROWID" else "CAST({c} AS VARCHAR2(4000))"
    return _reading(
        LogicalType(Kind.STRING),
        select=text,
        stats=text,
        notes=(f"{oracle.name} stored as its text form",),
    )


def _interval(oracle: OracleType, number_policy: LogicalType) -> ColumnReading:
    # TO_CHAR's own form, e.g. '+02 03:04:05.500000' (DAY TO SECOND) or '+01-06' (YEAR TO
    # MONTH), with the column's declared leading and fractional precision.
    return _reading(
        LogicalType(Kind.STRING),
        select="TO_CHAR({c})",
        stats="TO_CHAR({c})",
        notes=(f"{oracle.name} stored as text, e.g. +02 03:04:05.500000",),
    )


def _boolean(oracle: OracleType, number_policy: LogicalType) -> ColumnReading:
    return _reading(LogicalType(Kind.BOOLEAN))


_Rule = Callable[[OracleType, LogicalType], ColumnReading]
_RULES: dict[str, _Rule] = {
    "NUMBER": _number,
    "FLOAT": _float,
    "BINARY_FLOAT": _binary_float,
    "BINARY_DOUBLE": _binary_float,
    "DATE": _date,
    "CHAR": _text,
    "NCHAR": _text,
    "VARCHAR2": _text,
    "NVARCHAR2": _text,
    "CLOB": _clob,
    "NCLOB": _clob,
    "BLOB": _blob,
    "RAW": _raw,
    "ROWID": _rowid,
    "UROWID": _rowid,
    "BOOLEAN": _boolean,  # Oracle 23ai
}


def _rule(name: str) -> _Rule | None:
    if name.startswith("TIMESTAMP"):
        return _timestamp
    if name.startswith("INTERVAL"):
        return _interval
    return _RULES.get(name)


def column_reading(oracle: OracleType, number_policy: LogicalType) -> ColumnReading:
    """How a column of this type is read; types lakeshift cannot move exactly are marked."""
    rule = _rule(oracle.name)
    if rule is not None:
        return rule(oracle, number_policy)
    reason = (
        f"Oracle type {oracle.native} cannot be moved exactly (LONG, LONG RAW, BFILE, XMLTYPE, "
        "JSON, VECTOR and object types are not supported)"
    )
    return ColumnReading(LogicalType(Kind.STRING), pa.string(), unsupported=reason)
