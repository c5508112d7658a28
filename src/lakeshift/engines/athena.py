"""Athena: the lake's query engine on AWS, over the Glue catalog (Trino SQL, priced per byte).

The fragments render lakeshift's canonical text (`lakeshift.verify.canonical`) in Athena's Trino
dialect; the shared query shapes in `engines.base` do the rest, so verification costs about one
scan per side. Every query's scanned bytes are recorded (`bytes_scanned`, `queries`).

Athena reads timestamps of Hive (Glue) tables at millisecond precision: canonical timestamps are
rendered with six fraction digits of which the last three are zero, and the capabilities say
"millisecond", so results state the precision at which equality was proven.

Never run against real Athena in lakeshift's tests: every query is checked as golden SQL parsed
back by sqlglot, and the same SQL, transpiled, runs on DuckDB (`docs/lake.md` lists what that does
and does not prove).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from loguru import logger

from lakeshift.config import MigrationConfig
from lakeshift.engines.base import (
    SUM_PART_DIGITS,
    Capabilities,
    Column,
    SqlEngine,
    sum_of_parts,
)
from lakeshift.errors import ConfigError, TableMissingError, TerminalError
from lakeshift.inventory import Period
from lakeshift.lake.catalog import Catalog, CatalogTable
from lakeshift.lake.glue import glue_type
from lakeshift.lake.retry import with_retry
from lakeshift.types import Kind, LogicalType
from lakeshift.verify.canonical import HALF_BITS, HALF_MASK, LAST_MILLISECOND

CAPABILITIES = Capabilities(
    name="Athena",
    max_decimal_digits=38,
    snapshot="none",
    timestamp_precision="millisecond",
    max_identifier_length=255,
)

_PERIOD_FORMAT = {Period.YEAR: "%Y", Period.MONTH: "%Y-%m", Period.DAY: "%Y-%m-%d"}
_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%i:%s.%f"  # %f: six digits, from milliseconds on Hive tables


def _held_in_9999(expression: str) -> str:
    """The timestamp, held at the last millisecond of 9999 as every engine holds it: Athena reads
    9999-12-31 23:59:59.9995 and later already rounded to milliseconds, into the first instant
    of year 10000 (cut, they read as the last millisecond already). Later instants keep theirs."""
    value = f"CAST({expression} AS TIMESTAMP)"
    last = f"TIMESTAMP '{LAST_MILLISECOND}'"
    return f"CASE WHEN {value} = date_add('millisecond', 1, {last}) THEN {last} ELSE {value} END"


@dataclass(frozen=True)
class QueryRecord:
    sql: str
    bytes_scanned: int
    seconds: float
    query_id: str | None = None


class AthenaEngine(SqlEngine):
    """Athena over the tables of one Glue database."""

    capabilities = CAPABILITIES
    max_query_bytes = 262_144  # Athena refuses a longer query string
    # A DECIMAL(38,s) sums past 38 digits: summed in parts (Trino's ArithmeticException)
    sum_overflow = ("Decimal overflow",)

    def __init__(
        self,
        catalog: Catalog,
        glue_database: str,
        connect: Callable[[], Any] | None = None,
    ):
        self.catalog = catalog
        self.glue_database = glue_database
        self._connect = connect
        self._connection: Any = None
        self._running: Any = None  # the cursor of the query running now, for `interrupt`
        self.queries: list[QueryRecord] = []
        self._tables: dict[str, CatalogTable] = {}

    def __repr__(self) -> str:
        return f"AthenaEngine({self.glue_database})"

    @property
    def bytes_scanned(self) -> int:
        """Bytes Athena scanned (and billed) for every query of this engine so far."""
        return sum(record.bytes_scanned for record in self.queries)

    # --- fragments ---------------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def table_sql(self, table: str) -> str:
        self._entry(table)
        return f"{self.quote(self.glue_database)}.{self.quote(table)}"

    def canonical_sql(self, expression: str, logical: LogicalType) -> str:
        kind = logical.kind
        if kind is Kind.INTEGER:
            return f"CAST({expression} AS VARCHAR)"
        if kind is Kind.DECIMAL:
            # Trino prints decimals at their scale and has no negative zero.
            return f"CAST(CAST({expression} AS DECIMAL({logical.precision},{logical.scale})) AS VARCHAR)"
        if kind is Kind.FLOAT:
            value = f"CAST({expression} AS DOUBLE)"
            return (
                # to_ieee754_64: the double's bits, big-endian; to_hex prints them in uppercase.
                f"CASE WHEN {value} IS NULL THEN NULL WHEN is_nan({value}) THEN 'NaN' "
                f"WHEN {value} = 0 THEN '0' ELSE lower(to_hex(to_ieee754_64({value}))) END"
            )
        if kind is Kind.BOOLEAN:
            return f"CASE WHEN {expression} THEN '1' WHEN NOT {expression} THEN '0' END"
        if kind is Kind.STRING:
            # Trino string literals take backslashes literally.
            return f"replace(replace({expression}, '\\', '\\\\'), '|', '\\|')"
        if kind is Kind.BINARY:
            return f"lower(to_hex({expression}))"
        if kind is Kind.DATE:
            return f"CAST(CAST({expression} AS DATE) AS VARCHAR)"
        if kind is Kind.TIMESTAMP:
            # Glue timestamps are UTC instants already; no zone arithmetic on Athena's side.
            return f"date_format({_held_in_9999(expression)}, '{_TIMESTAMP_FORMAT}')"
        raise TerminalError(f"Athena cannot render canonical text for {logical}")

    def hash60_sql(self, text_expression: str) -> str:
        return f"from_base(substr(to_hex(md5(to_utf8({text_expression}))), 1, 15), 16)"

    def period_sql(self, expression: str, logical: LogicalType, period: Period) -> str:
        return f"date_format({_held_in_9999(expression)}, '{_PERIOD_FORMAT[period]}')"

    def timestamp_literal(self, value: datetime) -> str:
        moment = value.astimezone(UTC) if value.tzinfo else value
        return (
            f"TIMESTAMP '{moment.replace(tzinfo=None).isoformat(sep=' ', timespec='microseconds')}'"
        )

    def sum_sql(self, expression: str, logical: LogicalType) -> str:
        """After an overflow, a decimal's sum as two sums of its unscaled value's digits above
        and below the 18th, selected as one text `high,low`: Trino's SUM of a DECIMAL(38,s)
        fails once the total passes 38 digits."""
        if logical.kind is Kind.INTEGER:  # Athena's bigint SUM wraps silently
            return f"SUM(CAST({expression} AS DECIMAL(38,0)))"
        if not self.wide_sums or logical.kind is not Kind.DECIMAL:
            return f"SUM({expression})"
        # Trino prints a decimal with all its scale's digits: without the point, the unscaled value
        digits = f"replace(CAST(abs({expression}) AS VARCHAR), '.', '')"
        high = (
            f"CASE WHEN length({digits}) > {SUM_PART_DIGITS} THEN CAST(substr({digits}, 1, "
            f"length({digits}) - {SUM_PART_DIGITS}) AS DECIMAL(38,0)) ELSE 0 END"
        )
        low = (
            f"CAST(substr({digits}, greatest(length({digits}) - {SUM_PART_DIGITS - 1}, 1)) "
            "AS DECIMAL(38,0))"
        )
        parts = [
            f"CAST(SUM(CASE WHEN {expression} < 0 THEN -{part} ELSE {part} END) AS VARCHAR)"
            for part in (f"({high})", low)
        ]
        return f"{parts[0]} || ',' || {parts[1]}"

    def sum_value(self, value: Any, logical: LogicalType) -> Any:
        if not isinstance(value, str):
            return value
        high, low = value.split(",")
        return sum_of_parts(high, low, logical)

    def shift_sql(self, expression: str) -> tuple[str, str]:
        return (
            f"bitwise_right_shift({expression}, {HALF_BITS})",
            f"bitwise_and({expression}, {HALF_MASK})",
        )

    # --- running queries -----------------------------------------------------------------------
    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if parameters:
            raise TerminalError("Athena queries take no parameters; render literals instead")
        started = time.perf_counter()
        rows, scanned, query_id = with_retry("Athena query", lambda: self._execute(sql))
        record = QueryRecord(sql, scanned, round(time.perf_counter() - started, 3), query_id)
        self.queries.append(record)
        logger.debug("Athena query {}: {} bytes scanned, {}s", query_id, scanned, record.seconds)
        return rows

    def _execute(self, sql: str) -> tuple[list[tuple[Any, ...]], int, str | None]:
        if self._connection is None:
            if self._connect is None:
                raise TerminalError("AthenaEngine has no connection")
            self._connection = self._connect()
        cursor = self._connection.cursor()
        self._running = cursor
        try:
            cursor.execute(sql)
            rows = [tuple(row) for row in cursor.fetchall()]
            return rows, int(cursor.data_scanned_in_bytes or 0), cursor.query_id
        except Exception as error:
            if type(error).__module__.startswith("pyathena"):
                raise TerminalError(
                    f"Athena query failed: {' '.join(str(error).split())}"
                ) from None
            raise
        finally:
            self._running = None
            cursor.close()

    def interrupt(self) -> None:
        """Stop the running query (StopQueryExecution), so that Athena stops scanning, and
        billing, for an answer nobody waits for; the query then fails as cancelled. A query
        whose start Athena has not yet confirmed (no id yet) runs to its end."""
        cursor = self._running
        if cursor is None or not getattr(cursor, "query_id", None):
            return
        try:
            cursor.cancel()
        except Exception as error:  # the query may have ended meanwhile
            logger.debug("stopping Athena query {}: {}", cursor.query_id, error)

    # --- catalog ---------------------------------------------------------------------------------
    def _entry(self, table: str) -> CatalogTable:
        if table not in self._tables:
            entry = self.catalog.get(table)
            if entry is None:
                raise TableMissingError(f"{self.glue_database}.{table}", "lake")
            self._tables[table] = entry
        return self._tables[table]

    def table_exists(self, table: str) -> bool:
        return self.catalog.get(table) is not None

    def columns(self, table: str) -> list[Column]:
        return [
            Column(c["name"], glue_type(LogicalType.parse(c["type"])), LogicalType.parse(c["type"]))
            for c in self._entry(table).columns
        ]

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def create_table_ddl(
    entry: CatalogTable, glue_database: str, location: str, compression: str
) -> str:
    """`CREATE EXTERNAL TABLE` for Athena, equal to what the Glue catalog registers.

    `location` is the table's s3:// URI. Backquoted names: Athena DDL is Hive DDL.
    """
    columns = ",\n".join(
        f"  `{c['name']}` {glue_type(LogicalType.parse(c['type']))}" for c in entry.columns
    )
    partitioned = ""
    if entry.partition_keys:
        keys = ", ".join(f"`{key}` string" for key in entry.partition_keys)
        partitioned = f"PARTITIONED BY ({keys})\n"
    return (
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `{glue_database}`.`{entry.name}` (\n{columns}\n)\n"
        f"{partitioned}STORED AS PARQUET\nLOCATION '{location.rstrip('/')}/'\n"
        f"TBLPROPERTIES ('parquet.compression'='{compression.upper()}', 'classification'='parquet')"
    )


def add_partitions_ddl(glue_database: str, table: str, partitions: dict[str, str]) -> str:
    """`ALTER TABLE ... ADD IF NOT EXISTS PARTITION ...` for partitions `{"k=v": s3 URI}`."""
    clauses = []
    for spec, location in sorted(partitions.items()):
        values = ", ".join(
            f"`{key}` = '{value}'"
            for key, value in (part.split("=", 1) for part in spec.split("/"))
        )
        clauses.append(f"  PARTITION ({values}) LOCATION '{location.rstrip('/')}/'")
    return f"ALTER TABLE `{glue_database}`.`{table}` ADD IF NOT EXISTS\n" + "\n".join(clauses)


def connect_athena(catalog: Catalog, config: MigrationConfig) -> AthenaEngine:
    """Athena through pyathena, with the lake's AWS session; needs `aws.athena_output` or a
    workgroup that has an output location."""
    location = catalog.storage.s3_location
    if location is None:
        raise ConfigError("Athena reads only a lake on S3: set aws.s3_bucket instead of lake")
    aws = config.aws
    if not aws.athena_output and not aws.athena_workgroup:
        raise ConfigError(
            "Athena needs aws.athena_output (s3://bucket/prefix/) or aws.athena_workgroup"
        )
    glue_database = aws.glue_database or config.database

    def connect() -> Any:
        try:
            from pyathena import connect as pyathena_connect
        except ModuleNotFoundError:
            raise ConfigError(
                "Athena needs pyathena; install lakeshift with its extra: pip install 'lakeshift[aws]'"
            ) from None
        options: dict[str, Any] = (
            {"endpoint_url": location.endpoint_url} if location.endpoint_url else {}
        )
        return pyathena_connect(
            session=location.session,
            region_name=location.region,
            s3_staging_dir=aws.athena_output,
            work_group=aws.athena_workgroup,
            schema_name=glue_database,
            **options,
        )

    return AthenaEngine(catalog, glue_database, connect)
