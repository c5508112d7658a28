"""The Glue catalog: the lake's tables and partitions as Athena, Spark and DuckDB-over-S3 see them.

Tables are external Parquet tables (ParquetHiveSerDe) at `s3://bucket/prefix/{database}/{table}`;
each column keeps lakeshift's logical type and the source type in its Glue column parameters, so
`get` returns exactly what `create_or_check` registered. Partitions are registered with
`BatchCreatePartition` (at most 100 per call) only after their files are complete; a table that
is not partitioned becomes readable when its one slice is registered (`lakeshift.complete`).
A table whose schema changed since the last upload is an error, never a silent overwrite.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TypeVar

from loguru import logger

from lakeshift.errors import TerminalError, TransientError
from lakeshift.lake.catalog import CatalogTable, SchemaChangedError, same_schema
from lakeshift.lake.retry import DEFAULT_POLICY, TRANSIENT_CODES, with_retry
from lakeshift.lake.storage import LakeStorage
from lakeshift.types import Kind, LogicalType

T = TypeVar("T")

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARTITION_BATCH = 100  # BatchCreatePartition and BatchUpdatePartition take at most 100
PARTITION_DELETE_BATCH = 25  # BatchDeletePartition takes at most 25
MAX_DECIMAL_PRECISION = 38  # Glue, Hive and Athena decimals
TYPE_PARAMETER = "lakeshift.type"
SOURCE_TYPE_PARAMETER = "lakeshift.source_type"
PROPERTIES_PARAMETER = "lakeshift.properties"
COMPLETE_PARAMETER = "lakeshift.complete"

_GLUE_TYPES = {
    Kind.INTEGER: "bigint",
    Kind.FLOAT: "double",
    Kind.BOOLEAN: "boolean",
    Kind.STRING: "string",
    Kind.BINARY: "binary",
    Kind.DATE: "date",
    Kind.TIMESTAMP: "timestamp",  # Parquet holds UTC instants; Athena reads them as timestamp
}


def glue_type(logical: LogicalType) -> str:
    """The Glue/Hive column type of a logical type.

    >>> glue_type(LogicalType.parse("decimal(12,2)"))
    'decimal(12,2)'
    """
    if logical.kind is Kind.DECIMAL:
        if (logical.precision or 0) > MAX_DECIMAL_PRECISION or (logical.scale or 0) < 0:
            raise TerminalError(
                f"{logical} cannot be a Glue/Athena column (decimal precision at most 38, scale >= 0); "
                "map the column to a narrower type or set number_without_precision"
            )
        return f"decimal({logical.precision},{logical.scale})"
    return _GLUE_TYPES[logical.kind]


def storage_descriptor(location: str, columns: list[dict[str, str]]) -> dict[str, Any]:
    """A Parquet storage descriptor at `location` (an s3:// URI)."""
    return {
        "Columns": [
            {
                "Name": column["name"],
                "Type": glue_type(LogicalType.parse(column["type"])),
                "Parameters": {
                    TYPE_PARAMETER: column["type"],
                    SOURCE_TYPE_PARAMETER: column.get("source_type", ""),
                },
            }
            for column in columns
        ],
        "Location": location,
        "InputFormat": PARQUET_INPUT_FORMAT,
        "OutputFormat": PARQUET_OUTPUT_FORMAT,
        "Compressed": True,
        "SerdeInfo": {
            "SerializationLibrary": PARQUET_SERDE,
            "Parameters": {"serialization.format": "1"},
        },
    }


def partition_values(spec: str) -> list[str]:
    """`_period=2024-03` (or `a=1/b=2`) as Glue partition values, in key order."""
    return [part.split("=", 1)[1] for part in spec.split("/")]


class GlueCatalog:
    """Tables of one Glue database, for a lake on S3 (see the module docstring)."""

    def __init__(self, storage: LakeStorage, glue_database: str, client: Any = None):
        if storage.s3_location is None:
            raise TerminalError("the Glue catalog needs a lake on S3")
        self.storage = storage
        self.glue_database = glue_database
        self.client = client or storage.s3_location.client("glue")
        self._database_checked = False
        self.sleep: Callable[[float], None] = time.sleep  # between resends of throttled partitions
        # Definitions seen by this process, so registering a slice costs one Glue call.
        self._definitions: dict[str, CatalogTable] = {}

    def __repr__(self) -> str:
        return f"GlueCatalog({self.glue_database})"

    # --- calls -------------------------------------------------------------------------------
    def _call(self, what: str, operation: Callable[[], T], missing: T | None = None) -> T | None:
        """One Glue call with retries; EntityNotFoundException gives `missing`."""

        def attempt() -> T | None:
            try:
                return operation()
            except Exception as error:
                if _error_code(error) == "EntityNotFoundException":
                    return missing
                raise

        return with_retry(f"Glue {what}", attempt)

    def ensure_database(self) -> bool:
        """Create the Glue database if it is missing; True when it was created."""
        if self._database_checked:
            return False
        name = self.glue_database
        found = self._call(f"get database {name}", lambda: self.client.get_database(Name=name))
        created = False
        if found is None:

            def create() -> None:
                try:
                    self.client.create_database(
                        DatabaseInput={
                            "Name": name,
                            "Description": "Tables uploaded by lakeshift",
                        }
                    )
                except Exception as error:
                    if _error_code(error) != "AlreadyExistsException":  # created meanwhile
                        raise

            self._call(f"create database {name}", create)
            logger.info("Glue database {} created", name)
            created = True
        self._database_checked = True
        return created

    # --- Catalog protocol ----------------------------------------------------------------------
    def get(self, table: str) -> CatalogTable | None:
        entry = self._definition(table)
        if entry is None:
            return None
        if entry.partition_keys:
            for partition in self._partitions(table):
                spec = "/".join(
                    f"{key}={value}"
                    for key, value in zip(entry.partition_keys, partition["Values"], strict=True)
                )
                entry.partitions[spec] = self._path(partition["StorageDescriptor"]["Location"])
        elif entry.properties.pop(COMPLETE_PARAMETER, None):
            entry.partitions[""] = entry.location
        return entry

    def _definition(self, table: str) -> CatalogTable | None:
        """The table without its partitions (one GetTable call)."""
        name = f"{self.glue_database}.{table}"
        response = self._call(
            f"get table {name}",
            lambda: self.client.get_table(DatabaseName=self.glue_database, Name=table),
        )
        if response is None:
            return None
        glue_table = response["Table"]
        descriptor = glue_table.get("StorageDescriptor", {})
        parameters = glue_table.get("Parameters", {})
        properties = json.loads(parameters.get(PROPERTIES_PARAMETER, "{}"))
        if parameters.get(COMPLETE_PARAMETER) == "true":
            properties[COMPLETE_PARAMETER] = True  # popped again by `get`
        return CatalogTable(
            database=self.storage.database,
            name=glue_table["Name"],
            location=self._path(descriptor.get("Location", "")),
            columns=[_column(column) for column in descriptor.get("Columns", [])],
            partition_keys=[key["Name"] for key in glue_table.get("PartitionKeys", [])],
            properties=properties,
        )

    def check_names(self, table: CatalogTable) -> None:
        """Glue keeps table names in lower case, and Athena every name (it folds a query's
        names, and its documentation asks for lower case in Glue): a mixed-case name registered
        as written may not be found, or read back in another case than the files hold. Refused
        before anything is written, naming each."""
        names = [table.name, *(column["name"] for column in table.columns)]
        mixed = [name for name in names if name != name.lower()]
        if mixed:
            raise TerminalError(
                f"Glue table {table.name}: Glue and Athena take names in lower case, and "
                f"{', '.join(mixed)} {'is' if len(mixed) == 1 else 'are'} not: name the target in "
                "lower case (the inventory's target_table, column_mappings.json)"
            )

    def create_or_check(self, table: CatalogTable) -> CatalogTable:
        """Register a table, or return the registered one if it is this lake's and its schema is
        the same (else a TerminalError; SchemaChangedError names the changes)."""
        self.check_names(table)
        self.ensure_database()
        existing = self.get(table.name)
        if existing is None:
            table_input = self._table_input(table, complete=False)

            def create() -> bool:
                try:
                    self.client.create_table(
                        DatabaseName=self.glue_database, TableInput=table_input
                    )
                except Exception as error:
                    if _error_code(error) == "AlreadyExistsException":
                        return False  # an earlier attempt got through; checked below
                    raise
                return True

            if self._call(f"create table {self.glue_database}.{table.name}", create):
                logger.info("Glue table {}.{} created", self.glue_database, table.name)
                return table
            existing = self.get(table.name)
            assert existing is not None
        ours = existing.location == table.location or existing.location.startswith(
            f"{table.location}/_v"
        )
        if not ours:  # another aws.prefix or bucket sharing the Glue database
            raise TerminalError(
                f"Glue table {self.glue_database}.{table.name} points at "
                f"s3://{existing.location}, not at this lake's s3://{table.location}: rerun the "
                "upload with --force to point it here, or give this lake its own glue_database"
            )
        if not same_schema(existing, table):
            raise SchemaChangedError(
                f"Glue table {self.glue_database}.{table.name}", existing, table
            )
        return existing

    def register_partitions(self, table: str, partitions: dict[str, str]) -> None:
        """Make complete slices visible: one BatchCreatePartition per 100 partitions."""
        entry = self._definitions.get(table) or self._definition(table)
        if entry is None:
            raise TerminalError(f"Glue table {self.glue_database}.{table} is not registered")
        self._definitions[table] = entry
        if not entry.partition_keys:
            if "" in partitions and not entry.properties.get(COMPLETE_PARAMETER):
                self._mark_complete(entry)
                entry.properties[COMPLETE_PARAMETER] = True
            return
        inputs = [
            {
                "Values": partition_values(spec),
                "StorageDescriptor": storage_descriptor(self.storage.uri(folder), entry.columns),
                "Parameters": {},
            }
            for spec, folder in sorted(partitions.items())
        ]
        for start in range(0, len(inputs), PARTITION_BATCH):
            self._create_partitions(table, inputs[start : start + PARTITION_BATCH])
        logger.info(
            "Glue table {}.{}: {} partitions registered", self.glue_database, table, len(inputs)
        )

    def replace(self, table: CatalogTable) -> None:
        """Point the table at a replacement's files.

        Glue has no transaction over a table and its partitions. The table's definition changes
        in one UpdateTable; then each partition moves to its new folder (BatchUpdatePartition),
        new ones are created and gone ones deleted, each partition at once and always complete.
        While that runs, a query can see some partitions of the old generation and some of the
        new: never a half-written partition. A change of partition keys cannot be updated in
        place: the table is dropped and created again, and queries in between fail.
        """
        self.check_names(table)
        self.ensure_database()
        self._definitions.pop(table.name, None)
        existing = self.get(table.name)
        if existing is not None and existing.partition_keys != table.partition_keys:
            self.drop(table.name)
            existing = None
        complete = not table.partition_keys and "" in table.partitions
        table_input = self._table_input(table, complete=complete)
        if existing is None:

            def create() -> None:
                try:
                    self.client.create_table(
                        DatabaseName=self.glue_database, TableInput=table_input
                    )
                except Exception as error:
                    if _error_code(error) != "AlreadyExistsException":
                        raise
                    # an attempt whose answer was lost created it: make it this definition
                    self.client.update_table(
                        DatabaseName=self.glue_database, TableInput=table_input
                    )

            self._call(f"create table {self.glue_database}.{table.name}", create)
        else:
            self._call(
                f"update table {self.glue_database}.{table.name}",
                lambda: self.client.update_table(
                    DatabaseName=self.glue_database, TableInput=table_input
                ),
            )
        if not table.partition_keys:
            return
        old = existing.partitions if existing is not None else {}
        moved = {spec: folder for spec, folder in table.partitions.items() if spec in old}
        self._update_partitions(table, moved)
        self.register_partitions(
            table.name,
            {spec: folder for spec, folder in table.partitions.items() if spec not in old},
        )
        gone = sorted(set(old) - set(table.partitions))
        self.unregister_partitions(table.name, gone)
        logger.info(
            "Glue table {}.{} replaced: {} partitions moved, {} added, {} removed",
            self.glue_database,
            table.name,
            len(moved),
            len(table.partitions) - len(moved),
            len(gone),
        )

    def unregister_partitions(self, table: str, specs: list[str]) -> None:
        """Delete partitions, 25 per BatchDeletePartition; "" clears an unpartitioned table's
        `lakeshift.complete`."""
        if "" in specs:
            self._definitions.pop(table, None)
            entry = self._definition(table)
            if entry is not None and entry.properties.get(COMPLETE_PARAMETER):
                table_input = self._table_input(entry, complete=False)
                self._call(
                    f"update table {self.glue_database}.{table}",
                    lambda: self.client.update_table(
                        DatabaseName=self.glue_database, TableInput=table_input
                    ),
                )
        gone = [partition_values(spec) for spec in sorted(specs) if spec]
        for start in range(0, len(gone), PARTITION_DELETE_BATCH):
            batch = [{"Values": values} for values in gone[start : start + PARTITION_DELETE_BATCH]]
            # per-partition refusals are read too: one left registered would point at files
            # the replacement or the next upload then deletes
            self._send_batch(
                f"delete partitions of {self.glue_database}.{table}",
                lambda items: self.client.batch_delete_partition(
                    DatabaseName=self.glue_database, TableName=table, PartitionsToDelete=items
                ),
                batch,
                sent_values=lambda item: item["Values"],
                refused_values="PartitionValues",
                tolerated=frozenset({"EntityNotFoundException"}),
            )

    def _update_partitions(self, table: CatalogTable, partitions: dict[str, str]) -> None:
        entries = [
            {
                "PartitionValueList": partition_values(spec),
                "PartitionInput": {
                    "Values": partition_values(spec),
                    "StorageDescriptor": storage_descriptor(
                        self.storage.uri(folder), table.columns
                    ),
                    "Parameters": {},
                },
            }
            for spec, folder in sorted(partitions.items())
        ]
        what = f"move partitions of {self.glue_database}.{table.name}"
        for start in range(0, len(entries), PARTITION_BATCH):
            self._send_batch(
                what,
                lambda batch: self.client.batch_update_partition(
                    DatabaseName=self.glue_database, TableName=table.name, Entries=batch
                ),
                entries[start : start + PARTITION_BATCH],
                sent_values=lambda entry: entry["PartitionValueList"],
                refused_values="PartitionValueList",
            )

    def drop(self, table: str) -> None:
        self._definitions.pop(table, None)
        self._call(
            f"delete table {self.glue_database}.{table}",
            lambda: self.client.delete_table(DatabaseName=self.glue_database, Name=table),
        )

    # --- helpers ---------------------------------------------------------------------------------
    def _table_input(self, table: CatalogTable, complete: bool) -> dict[str, Any]:
        properties = {k: v for k, v in table.properties.items() if k != COMPLETE_PARAMETER}
        parameters = {
            "EXTERNAL": "TRUE",
            "classification": "parquet",
            PROPERTIES_PARAMETER: json.dumps(properties, sort_keys=True),
        }
        if complete:
            parameters[COMPLETE_PARAMETER] = "true"
        return {
            "Name": table.name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": parameters,
            "PartitionKeys": [{"Name": key, "Type": "string"} for key in table.partition_keys],
            "StorageDescriptor": storage_descriptor(
                self.storage.uri(table.location), table.columns
            ),
        }

    def _mark_complete(self, entry: CatalogTable) -> None:
        table_input = self._table_input(entry, complete=True)
        self._call(
            f"update table {self.glue_database}.{entry.name}",
            lambda: self.client.update_table(
                DatabaseName=self.glue_database, TableInput=table_input
            ),
        )

    def _create_partitions(self, table: str, batch: list[dict[str, Any]]) -> None:
        """One batch. A partition that already exists is kept where an earlier run or attempt
        registered it at the same location, and moved here when it points elsewhere (a
        replacement interrupted between the table and its partitions)."""
        existing = self._send_batch(
            f"create partitions of {self.glue_database}.{table}",
            lambda items: self.client.batch_create_partition(
                DatabaseName=self.glue_database, TableName=table, PartitionInputList=items
            ),
            batch,
            sent_values=lambda item: item["Values"],
            refused_values="PartitionValues",
            tolerated=frozenset({"AlreadyExistsException"}),
        )
        if not existing:
            return
        wanted = {tuple(item["Values"]): item for item in batch}
        found = self._call(
            f"get partitions of {self.glue_database}.{table}",
            lambda: self.client.batch_get_partition(
                DatabaseName=self.glue_database,
                TableName=table,
                PartitionsToGet=[{"Values": values} for values in existing],
            ),
        )
        elsewhere = [
            wanted[tuple(partition["Values"])]
            for partition in (found or {}).get("Partitions", [])
            if tuple(partition["Values"]) in wanted
            and partition["StorageDescriptor"]["Location"].rstrip("/")
            != wanted[tuple(partition["Values"])]["StorageDescriptor"]["Location"].rstrip("/")
        ]
        if not elsewhere:
            return
        logger.warning(
            "Glue table {}.{}: {} partition(s) pointed at other folders; moved to this run's",
            self.glue_database,
            table,
            len(elsewhere),
        )
        self._send_batch(
            f"move partitions of {self.glue_database}.{table}",
            lambda items: self.client.batch_update_partition(
                DatabaseName=self.glue_database, TableName=table, Entries=items
            ),
            [{"PartitionValueList": item["Values"], "PartitionInput": item} for item in elsewhere],
            sent_values=lambda entry: entry["PartitionValueList"],
            refused_values="PartitionValueList",
        )

    def _send_batch(
        self,
        what: str,
        send: Callable[[list[dict[str, Any]]], Any],
        batch: list[dict[str, Any]],
        sent_values: Callable[[dict[str, Any]], list[str]],
        refused_values: str,
        tolerated: frozenset[str] = frozenset(),
    ) -> list[list[str]]:
        """One batch call. Glue answers a batch with per-partition errors rather than failing
        it: partitions refused transiently (throttled) are sent again after a backoff, any other
        refusal is a TerminalError naming the partition. Returns the values of the partitions
        refused with a `tolerated` code."""
        tolerated_values: list[list[str]] = []
        pending = batch
        for attempt in range(DEFAULT_POLICY.attempts):
            if attempt:
                self.sleep(DEFAULT_POLICY.delay(attempt))
            response = self._call(what, partial(send, pending))
            retry = []
            for error in (response or {}).get("Errors", []):
                detail = error.get("ErrorDetail", {})
                code = detail.get("ErrorCode", "")
                values = error.get(refused_values, [])
                if code in tolerated:
                    tolerated_values.append(values)
                    continue
                if code in TRANSIENT_CODES:
                    again = [item for item in pending if sent_values(item) == values]
                    if not again:  # never drop a partition because its refusal names no other
                        raise TerminalError(
                            f"Glue {what}: a partition was refused ({code}) but the refusal"
                            f" names values {values} that were not sent"
                        )
                    retry += [item for item in again if item not in retry]
                    continue
                message = detail.get("ErrorMessage", "")
                raise TerminalError(f"Glue {what}: partition {values}: {code}: {message}")
            if not retry:
                return tolerated_values
            logger.warning("Glue {}: {} partitions throttled; sending them again", what, len(retry))
            pending = retry
        raise TransientError(
            f"Glue {what}: partitions still refused after {DEFAULT_POLICY.attempts} attempts"
        )

    def _partitions(self, table: str) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            arguments: dict[str, Any] = {"DatabaseName": self.glue_database, "TableName": table}
            if token:
                arguments["NextToken"] = token
            response = self._call(
                f"get partitions of {self.glue_database}.{table}",
                partial(self.client.get_partitions, **arguments),
            )
            if response is None:
                return
            yield from response.get("Partitions", [])
            token = response.get("NextToken")
            if not token:
                return

    def _path(self, uri: str) -> str:
        """An s3:// location as the storage's pyarrow path (`bucket/key`)."""
        return uri.removeprefix("s3://").rstrip("/")


_LOGICAL_BY_GLUE = {
    **{glue: kind.value for kind, glue in _GLUE_TYPES.items()},
    # what other writers declare: narrower integers, a 32-bit float (read widened exactly)
    **dict.fromkeys(("int", "integer", "smallint", "tinyint"), Kind.INTEGER.value),
    "float": Kind.FLOAT.value,
}
_GLUE_TEXT = re.compile(r"(?:var)?char\(\d+\)")


def _column(column: dict[str, Any]) -> dict[str, str]:
    """A Glue column as the catalog's column; a table lakeshift did not write is read by its
    Glue types, and one no logical type holds (array, map, struct) is named."""
    parameters = column.get("Parameters", {})
    glue = str(column["Type"]).lower()
    logical = parameters.get(TYPE_PARAMETER) or _LOGICAL_BY_GLUE.get(glue)
    if logical is None and _GLUE_TEXT.fullmatch(glue):
        logical = Kind.STRING.value
    if logical is None and glue.startswith("decimal("):
        logical = glue
    if logical is None:
        raise TerminalError(
            f"Glue column {column['Name']} has type {column['Type']}, which lakeshift cannot "
            "compare; map its source column to null, or upload the table with lakeshift"
        )
    return {
        "name": column["Name"],
        "type": logical,
        "source_type": parameters.get(SOURCE_TYPE_PARAMETER, ""),
    }


def _error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
