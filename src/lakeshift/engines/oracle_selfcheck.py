"""Ask a live Oracle whether its canonical text and hashes equal the Python reference.

lakeshift's tests never reach an Oracle server: they evaluate the canonical SQL with a model of
Oracle's documented semantics. This module asks a real server the same questions once, so the
assumptions the model makes (IS NAN, UTL_RAW.CAST_FROM_BINARY_DOUBLE's bytes, TO_BINARY_DOUBLE
of a NUMBER giving the nearest double, TO_CHAR formats, STANDARD_HASH over AL32UTF8 bytes) are
confirmed or refuted on it:

    LAKESHIFT_SOURCE_URL='oracle://user:pw@host:1521/?service_name=X' \\
        python -m lakeshift.engines.oracle_selfcheck

Each probe binds one value, converts it in SQL to the Oracle type it stands for (doubles and
BINARY_FLOATs by their exact bits), and renders it with the same SQL the engine uses for table
columns. It reads no table and writes nothing.
"""

from __future__ import annotations

import math
import os
import struct
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from lakeshift.config import MigrationConfig
from lakeshift.engines import oracle_sql
from lakeshift.engines.oracle import OracleEngine, connect
from lakeshift.errors import LakeshiftError
from lakeshift.inventory import Period
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import canonical_value, hash60

COLUMN = '"V"'
DOUBLE = "UTL_RAW.CAST_TO_BINARY_DOUBLE(HEXTORAW(:v))"  # the exact bits, big-endian (-0 is +0)
NEGATED_DOUBLE = f"-{DOUBLE}"  # the only way to a -0 from bits
SINGLE = "UTL_RAW.CAST_TO_BINARY_FLOAT(HEXTORAW(:v))"  # a BINARY_FLOAT, exact bits
TIMESTAMP = "TO_TIMESTAMP(:v, 'YYYY-MM-DD HH24:MI:SS.FF9')"
ZONED = "TO_TIMESTAMP_TZ(:v, 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM')"
FLOATS = [
    0.0,
    -0.0,
    math.nan,
    math.inf,
    -math.inf,
    1e-300,
    5e-324,
    -5e-324,
    2.225073858507201e-308,  # the largest subnormal
    2.2250738585072014e-308,  # the smallest normal
    1.7976931348623157e308,
    -1.7976931348623157e308,
    0.1,
    0.30000000000000004,
    1 / 3,
    1.0,
    1.0000000000000002,
    -2.0,
    123.45,
    -123.45,
    1e22,
    1e23,
    9007199254740992.0,
]
# BINARY_FLOAT bits: 0.1f, the largest, the smallest subnormal, -Inf, NaN, -0.
SINGLES = ["3dcccccd", "7f7fffff", "00000001", "ff800000", "7fc00000", "80000000"]
# FLOAT(b) columns hold NUMBERs: each renders as the nearest double (ties to even).
NUMBER_FLOATS = [
    "0.1",
    "9007199254740993",
    "9007199254740995",
    "-7.25e-100",
    "1.000000000000005",
    "123456789012345678901234567890",
    "1e125",
]


@dataclass(frozen=True)
class Probe:
    what: str
    sql: str
    value: str  # bound to :v
    expected: str | None


def _probe(what: str, rendered: str, conversion: str, value: str, expected: Any) -> Probe:
    return Probe(
        what, f"SELECT {rendered} FROM (SELECT {conversion} AS {COLUMN} FROM DUAL)", value, expected
    )


def _float_probes() -> list[Probe]:
    logical = LogicalType(Kind.FLOAT)
    rendered = oracle_sql.canonical_sql(COLUMN, logical)
    probes = [
        _probe(
            f"float {x!r}",
            rendered,
            DOUBLE,
            struct.pack(">d", x).hex(),
            canonical_value(x, logical),
        )
        for x in FLOATS
    ]
    probes.append(_probe("float -0.0 (negated 0)", rendered, NEGATED_DOUBLE, "0" * 16, "0"))
    for bits in SINGLES:
        single = struct.unpack(">f", bytes.fromhex(bits))[0]
        probes.append(
            _probe(f"binary_float {bits}", rendered, SINGLE, bits, canonical_value(single, logical))
        )
    for text in NUMBER_FLOATS:
        probes.append(
            _probe(
                f"float(126) {text}",
                rendered,
                "TO_NUMBER(:v)",
                text,
                canonical_value(float(text), logical),
            )
        )
    return probes


def _exact_probes() -> list[Probe]:
    probes = []
    for text, precision, scale in [
        ("-0.5", 5, 2),
        ("1234567890123456789012345678.0123456789", 38, 10),
        ("42", 38, 0),
    ]:
        logical = LogicalType(Kind.DECIMAL, precision, scale)
        probes.append(
            _probe(
                f"decimal {text}",
                oracle_sql.canonical_sql(COLUMN, logical),
                "TO_NUMBER(:v)",
                text,
                canonical_value(Decimal(text), logical),
            )
        )
    text_type, binary = LogicalType(Kind.STRING), LogicalType(Kind.BINARY)
    for text in ["a|b\\c", "ünïcødé 漢字 🚀", "  padded  "]:
        probes.append(
            _probe(
                f"string {text!r}",
                oracle_sql.canonical_sql(COLUMN, text_type),
                ":v",
                text,
                canonical_value(text, text_type),
            )
        )
        probes.append(
            _probe(f"hash60 {text!r}", oracle_sql.hash60_sql(COLUMN), ":v", text, str(hash60(text)))
        )
    probes.append(
        _probe(
            "binary",
            oracle_sql.canonical_sql(COLUMN, binary),
            "HEXTORAW(:v)",
            "00ff7f",
            canonical_value(bytes.fromhex("00ff7f"), binary),
        )
    )
    return probes


def _time_probes() -> list[Probe]:
    naive, zoned = LogicalType(Kind.TIMESTAMP), LogicalType(Kind.TIMESTAMP, tz="UTC")
    moment = datetime(1969, 12, 31, 23, 59, 59, 999999)
    offset = timezone(timedelta(hours=5, minutes=30))
    return [
        _probe(
            "timestamp with nanoseconds",
            oracle_sql.canonical_sql(COLUMN, naive),
            TIMESTAMP,
            "1969-12-31 23:59:59.999999999",
            canonical_value(moment, naive),
        ),
        _probe(
            "timestamp with zone",
            oracle_sql.canonical_sql(COLUMN, zoned),
            ZONED,
            "1970-01-01 05:29:59.999999999 +05:30",
            canonical_value(moment.replace(tzinfo=UTC).astimezone(offset), zoned),
        ),
        _probe(
            "period of a zoned timestamp",
            oracle_sql.period_sql(COLUMN, zoned, Period.MONTH),
            ZONED,
            "1970-01-01 05:29:59.999999999 +05:30",
            "1969-12",
        ),
    ]


def probes() -> list[Probe]:
    return _float_probes() + _exact_probes() + _time_probes()


def run(engine: OracleEngine) -> list[str]:
    """One line per probe whose answer differs from the reference (empty: all agree)."""
    problems = []
    for probe in probes():
        try:
            answer = engine.query(probe.sql, [probe.value])[0][0]
        except LakeshiftError as error:
            problems.append(f"{probe.what}: failed: {error}")
            continue
        answer = None if answer is None else str(answer)
        if answer != probe.expected:
            problems.append(f"{probe.what}: Oracle says {answer!r}, Python says {probe.expected!r}")
    return problems


def main() -> int:
    url = os.environ.get("LAKESHIFT_SOURCE_URL") or (sys.argv[1] if len(sys.argv) > 1 else "")
    if not url.startswith("oracle"):
        print("set LAKESHIFT_SOURCE_URL to an oracle:// URL", file=sys.stderr)
        return 2
    try:
        engine = connect(url, MigrationConfig())
        try:
            problems = run(engine)
        finally:
            engine.close()
    except LakeshiftError as error:  # cannot connect, or a probe cannot run: not a difference
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in problems:
        print(line)
    print(f"{len(probes()) - len(problems)} of {len(probes())} probes agree with Python")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
