"""DuckDB: the lake's query engine for the embedded default (Parquet files read in place).

Lake tables are views over the Parquet files under the catalog's registered partitions, so
DuckDB sees exactly what Athena would see through Glue.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from lakeshift.engines.base import (
    SUM_PART_DIGITS,
    Capabilities,
    Column,
    SqlEngine,
    sum_of_parts,
)
from lakeshift.errors import TableMissingError, TerminalError
from lakeshift.inventory import Period
from lakeshift.lake.catalog import Catalog, CatalogTable, data_files
from lakeshift.lake.file_schema import check_file_schemas
from lakeshift.types import Kind, LogicalType

SUM_PART = 10**SUM_PART_DIGITS

CAPABILITIES = Capabilities(
    name="DuckDB",
    max_decimal_digits=38,
    snapshot="none",
    timestamp_precision="microsecond",
    max_identifier_length=1_000_000,
)
STREAM_ROWS = 10_000

_PERIOD_FORMAT = {Period.YEAR: "%Y", Period.MONTH: "%Y-%m", Period.DAY: "%Y-%m-%d"}
_SIMPLE_TYPES = {
    Kind.INTEGER: "BIGINT",
    Kind.FLOAT: "DOUBLE",
    Kind.BOOLEAN: "BOOLEAN",
    Kind.STRING: "VARCHAR",
    Kind.BINARY: "BLOB",
    Kind.DATE: "DATE",
}


def duckdb_type(logical: LogicalType) -> str:
    if logical.kind is Kind.DECIMAL:
        return f"DECIMAL({logical.precision},{logical.scale})"
    if logical.kind is Kind.TIMESTAMP:
        return "TIMESTAMPTZ" if logical.tz else "TIMESTAMP"
    return _SIMPLE_TYPES[logical.kind]


def _failed(error: duckdb.Error) -> TerminalError:
    """The query's error; one past DuckDB's memory limit says which setting raises it."""
    hint = ""
    if isinstance(error, duckdb.OutOfMemoryException):
        hint = (
            "; the lake's DuckDB may use max_memory_mb of migration_config.cfg (at least 256 MB): "
            "raise it for rows this wide"
        )
    return TerminalError(f"DuckDB query failed: {error}{hint}")


class DuckDBEngine(SqlEngine):
    """DuckDB over the lake's Parquet files, one view per catalog table."""

    capabilities = CAPABILITIES
    streams_rows = True
    # A DECIMAL(38,s) sums past 38 digits, or its unscaled total past 2**127: summed in parts
    sum_overflow = ("Overflow in SUM", "Overflow in HUGEINT")

    def __init__(self, catalog: Catalog, memory_limit_mb: int = 2048, threads: int = 2):
        self.catalog = catalog
        self.connection = duckdb.connect(
            # No extension is ever downloaded; without ICU, DuckDB shows TIMESTAMPTZ in UTC.
            config={
                "memory_limit": f"{memory_limit_mb}MB",
                "threads": threads,
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                # Parquet min/max leave NaN out, and with them DuckDB proves `isnan(x)` (any
                # comparison with NaN) false for a file whose other values are finite: a NaN
                # would render as its bits and differ from the source's 'NaN'. No measurable cost.
                "disabled_optimizers": "statistics_propagation",
            }
        )
        self._views: dict[str, CatalogTable] = {}

    def __repr__(self) -> str:
        return f"DuckDBEngine({self.catalog.storage.root})"

    # --- fragments ---------------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def table_sql(self, table: str) -> str:
        self._ensure_view(table)
        return self.quote(table)

    def div_sql(self, expression: str, divisor: int) -> str:
        return f"(({expression}) // {divisor})"  # `/` divides integers into a DOUBLE

    def sum_sql(self, expression: str, logical: LogicalType) -> str:
        """After an overflow, a decimal's sum as two HUGEINT sums of its unscaled value's digits
        above and below the 18th: DuckDB's SUM of a DECIMAL(38,s) fails once the total passes 38
        digits (two values of 6e27 at the default decimal(38,10) policy)."""
        if not self.wide_sums or logical.kind is not Kind.DECIMAL:
            return super().sum_sql(expression, logical)
        # DuckDB prints a decimal with all its scale's digits: without the point, the unscaled value
        unscaled = f"CAST(replace(CAST({expression} AS VARCHAR), '.', '') AS HUGEINT)"
        return f"[SUM({unscaled} // {SUM_PART}), SUM({unscaled} % {SUM_PART})]"

    def sum_value(self, value: Any, logical: LogicalType) -> Any:
        if not isinstance(value, list):
            return value
        high, low = value
        if high is None:
            return None
        return sum_of_parts(high, low, logical)

    def canonical_sql(self, expression: str, logical: LogicalType) -> str:
        kind = logical.kind
        if kind is Kind.INTEGER:
            return f"CAST({expression} AS VARCHAR)"
        if kind is Kind.DECIMAL:
            value = f"CAST({expression} AS DECIMAL({logical.precision},{logical.scale}))"
            if logical.precision != logical.scale:
                return f"CAST({value} AS VARCHAR)"
            # With no integer digit DuckDB prints '.5' and '-.5', where every other engine
            # (and the canonical text) writes '0.5' and '-0.5'.
            return f"regexp_replace(CAST({value} AS VARCHAR), '^(-?)\\.', '\\10.')"
        if kind is Kind.FLOAT:
            value = f"CAST({expression} AS DOUBLE)"
            return (
                # A DOUBLE cast to BIT is its 64 IEEE-754 bits, most significant first; as a
                # BLOB, their 8 bytes in that order, whose hex is a third cheaper than printf's.
                f"CASE WHEN {value} IS NULL THEN NULL WHEN isnan({value}) THEN 'NaN' "
                f"WHEN {value} = 0 THEN '0' "
                f"ELSE lower(hex(CAST(CAST({value} AS BIT) AS BLOB))) END"
            )
        if kind is Kind.BOOLEAN:
            return f"CAST(CAST({expression} AS INTEGER) AS VARCHAR)"
        if kind is Kind.STRING:
            return f"replace(replace({expression}, '\\', '\\\\'), '|', '\\|')"
        if kind is Kind.BINARY:
            return f"lower(hex({expression}))"
        if kind is Kind.DATE:
            return f"strftime(CAST({expression} AS DATE), '%Y-%m-%d')"
        if kind is Kind.TIMESTAMP:
            value = self.at_common_precision(self._utc(expression, logical))
            return f"strftime({value}, '%Y-%m-%d %H:%M:%S.%f')"
        raise TerminalError(f"DuckDB cannot render canonical text for {logical}")

    def _utc(self, expression: str, logical: LogicalType) -> str:
        return f"timezone('UTC', {expression})" if logical.tz else expression

    def concat_sql(self, parts: Sequence[str]) -> str:
        # One concat() builds the row text once; a chain of `||` builds every prefix of it
        # (a third of the lake side's pass-1 time at six columns). Parts are never NULL, which
        # concat() would skip where `||` gives NULL.
        return f"concat({', '.join(parts)})"

    def hash60_sql(self, text_expression: str) -> str:
        return f"CAST('0x' || substr(md5({text_expression}), 1, 15) AS BIGINT)"

    def round_to_millisecond_sql(self, expression: str) -> str:
        return f"date_trunc('millisecond', ({expression}) + INTERVAL 500 MICROSECOND)"

    def period_sql(self, expression: str, logical: LogicalType, period: Period) -> str:
        value = expression
        if logical.kind is Kind.TIMESTAMP:
            value = self.at_common_precision(self._utc(expression, logical))
        return f"strftime({value}, '{_PERIOD_FORMAT[period]}')"

    def timestamp_literal(self, value: datetime) -> str:
        moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return f"TIMESTAMPTZ '{moment.isoformat(sep=' ')}'"

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.connection.execute(sql, list(parameters)).fetchall()
        except duckdb.Error as error:
            raise _failed(error) from None

    def query_stream(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """DuckDB's result streams: rows are fetched `STREAM_ROWS` at a time as they are read.

        On this connection itself (temp views are the connection's own), so no other question
        may run on it until the stream is read or closed.
        """
        try:
            result = self.connection.execute(sql)
            while rows := result.fetchmany(STREAM_ROWS):
                yield from rows
        except duckdb.Error as error:
            raise _failed(error) from None

    # --- catalog ---------------------------------------------------------------------------------
    def _ensure_view(self, table: str) -> CatalogTable:
        if table in self._views:
            return self._views[table]
        entry = self.catalog.get(table)
        if entry is None:
            raise TableMissingError(f"{self.catalog.storage.database}.{table}", "lake")
        storage = self.catalog.storage
        # The files listed now, not a pattern read again at each query: exactly those checked
        files = self._data_files(entry)
        check_file_schemas(storage, entry, files)  # a reader would cast a foreign file silently
        if files and storage.s3_location is not None:
            body = f"SELECT * FROM {self._register_dataset(table, entry, files)}"
        elif files:
            listed = ", ".join(self.string_literal(f) for f in files)
            body = f"SELECT * FROM read_parquet([{listed}], hive_partitioning = false)"
        else:
            casts = ", ".join(
                f"CAST(NULL AS {duckdb_type(LogicalType.parse(c['type']))}) AS {self.quote(c['name'])}"
                for c in entry.columns
            )
            body = f"SELECT {casts} WHERE false"
        self.connection.execute(f"CREATE OR REPLACE TEMP VIEW {self.quote(table)} AS {body}")
        self._views[table] = entry
        return entry

    def _data_files(self, entry: CatalogTable) -> list[str]:
        """The table's data files, as Hive and Athena read its folders."""
        return data_files(self.catalog.storage, entry)

    def _register_dataset(self, table: str, entry: CatalogTable, files: list[str]) -> str:
        """Files on a remote store, read through the lake's pyarrow filesystem (no DuckDB
        extension, the same credentials and retries as the upload); returns the relation's name."""
        schema = pa.schema(
            [pa.field(c["name"], LogicalType.parse(c["type"]).to_arrow()) for c in entry.columns]
        )
        import pyarrow.dataset as pads  # imports pandas when installed: only for remote lakes

        files_dataset = pads.dataset(
            files, schema=schema, format="parquet", filesystem=self.catalog.storage.fs
        )
        name = f"__lake_files_{table}"
        self.connection.register(name, files_dataset)
        return self.quote(name)

    def refresh(self) -> None:
        """Forget cached views, so files registered since are seen."""
        self._views.clear()

    def table_exists(self, table: str) -> bool:
        return self.catalog.get(table) is not None

    def columns(self, table: str) -> list[Column]:
        entry = self._ensure_view(table)
        return [
            Column(
                c["name"], duckdb_type(LogicalType.parse(c["type"])), LogicalType.parse(c["type"])
            )
            for c in entry.columns
        ]

    def interrupt(self) -> None:
        self.connection.interrupt()

    def close(self) -> None:
        self.connection.close()
