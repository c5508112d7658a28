"""The local catalog: tables, their columns and their registered partitions.

It plays Glue's part for the embedded default: a table is visible to readers only once it is
registered here, and a partition only once its files are complete. Readers (the DuckDB engine)
read every Parquet file under a registered partition's location, as Athena does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from lakeshift.errors import TerminalError
from lakeshift.lake.storage import LakeStorage

CATALOG_SCHEMA_VERSION = 1


@dataclass
class CatalogTable:
    database: str
    name: str
    location: str
    columns: list[dict[str, str]]  # name, logical type text, source native type
    partition_keys: list[str]
    partitions: dict[str, str] = field(default_factory=dict)  # "key=value" -> folder
    properties: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": CATALOG_SCHEMA_VERSION,
            "database": self.database,
            "name": self.name,
            "location": self.location,
            "columns": self.columns,
            "partition_keys": self.partition_keys,
            "partitions": self.partitions,
            "properties": self.properties,
        }

    @classmethod
    def from_json(cls, content: dict[str, Any]) -> CatalogTable:
        return cls(
            database=content["database"],
            name=content["name"],
            location=content["location"],
            columns=content["columns"],
            partition_keys=content["partition_keys"],
            partitions=content.get("partitions", {}),
            properties=content.get("properties", {}),
        )

    def data_locations(self) -> list[str]:
        """Folders whose Parquet files make up the table."""
        if not self.partition_keys:
            return [self.location] if self.partitions else []
        return sorted(self.partitions.values())


def data_files(storage: LakeStorage, entry: CatalogTable) -> list[str]:
    """Every file a reader of `entry` reads: in its registered data folders, each file whose
    name does not start with `_` or `.` (as Hive and Athena read a folder). One that is not a
    `.parquet` file is refused by name: Athena would read it, and no comparison could."""
    files = []
    for folder in entry.data_locations():
        for path in storage.list_files(folder, suffix=""):
            name = path.rpartition("/")[2]
            if name.startswith(("_", ".")):
                continue
            if not name.endswith(".parquet"):
                raise TerminalError(
                    f"{entry.name}: {path} lies among the table's data files, where Athena reads "
                    "every file not named `_...` or `.…`, but it is no .parquet file lakeshift "
                    "wrote: remove it, or upload the table again"
                )
            files.append(path)
    return files


def schema_changes(registered: CatalogTable, wanted: CatalogTable) -> list[str]:
    """What differs between a registered table's columns and partitioning and the wanted ones.

    >>> old = CatalogTable("db", "t", "t", [{"name": "a", "type": "integer"}], ["_period"])
    >>> new = CatalogTable("db", "t", "t", [{"name": "b", "type": "string"}], [])
    >>> schema_changes(old, new)
    ['column b added (string)', 'column a removed (integer)', 'partitioning _period -> none']
    """
    old = {column["name"]: column for column in registered.columns}
    new = {column["name"]: column for column in wanted.columns}
    changes = [f"column {name} added ({new[name]['type']})" for name in new if name not in old]
    changes += [f"column {name} removed ({old[name]['type']})" for name in old if name not in new]
    for name in (name for name in new if name in old):
        before, after = old[name], new[name]
        if before["type"] != after["type"]:
            changes.append(f"column {name} {before['type']} -> {after['type']}")
        elif before.get("source_type", "") != after.get("source_type", ""):
            changes.append(
                f"column {name} source type {before.get('source_type') or 'unknown'} -> "
                f"{after.get('source_type') or 'unknown'}"
            )
    if not changes and list(old) != list(new):
        changes.append(f"column order {', '.join(old)} -> {', '.join(new)}")
    if registered.partition_keys != wanted.partition_keys:
        changes.append(
            f"partitioning {', '.join(registered.partition_keys) or 'none'} -> "
            f"{', '.join(wanted.partition_keys) or 'none'}"
        )
    return changes


def _lake_columns(table: CatalogTable) -> list[tuple[str, str]]:
    return [(c["name"], c["type"]) for c in table.columns]


def same_schema(registered: CatalogTable, wanted: CatalogTable) -> bool:
    """The same columns (names, lake types, order) and partitioning. Source types are not
    compared: the lake holds the same values whatever the source declared (a VARCHAR2(20)
    widened to VARCHAR2(40), or an upgrade of lakeshift naming source types more fully), and a
    --force for it would upload the whole table again."""
    return (
        _lake_columns(registered) == _lake_columns(wanted)
        and registered.partition_keys == wanted.partition_keys
    )


class SchemaChangedError(TerminalError):
    """A registered table whose columns or partitioning differ from the upload's: the message
    names each change; `registered` is the table as the catalog holds it."""

    def __init__(self, what: str, registered: CatalogTable, wanted: CatalogTable):
        changes = schema_changes(registered, wanted)
        kind = "schema" if _lake_columns(registered) != _lake_columns(wanted) else "partitioning"
        super().__init__(
            f"{what} exists with another {kind}: {'; '.join(changes)}; "
            "rerun the upload with --force to replace it"
        )
        self.registered = registered


class Catalog(Protocol):
    """What upload registers and readers look up: Glue, or the local catalog."""

    storage: LakeStorage

    def get(self, table: str) -> CatalogTable | None: ...

    def check_names(self, table: CatalogTable) -> None:
        """Raise naming the table's or columns' names this catalog cannot hold as written."""
        ...

    def create_or_check(self, table: CatalogTable) -> CatalogTable: ...

    def register_partitions(self, table: str, partitions: dict[str, str]) -> None: ...

    def unregister_partitions(self, table: str, specs: list[str]) -> None:
        """Make the partitions `specs` ("key=value", "" for an unpartitioned table's one slice)
        invisible to readers; one already gone is no error."""
        ...

    def replace(self, table: CatalogTable) -> None:
        """Make `table` (schema, location, complete partitions) what readers see from now on."""
        ...

    def drop(self, table: str) -> None: ...


class LocalCatalog:
    """Tables of one lake database, stored as JSON beside the data."""

    def __init__(self, storage: LakeStorage):
        self.storage = storage

    def _path(self, table: str) -> str:
        return self.storage.bookkeeping_path("catalog", table)

    def get(self, table: str) -> CatalogTable | None:
        content = self.storage.read_json(self._path(table))
        if content is None:
            return None
        entry = CatalogTable.from_json(content)
        entry.location = self.storage.path(entry.location)
        entry.partitions = {key: self.storage.path(rel) for key, rel in entry.partitions.items()}
        return entry

    def _save(self, table: CatalogTable) -> None:
        """Store locations relative to the lake root, so a lake can be moved or copied whole."""
        content = table.to_json()
        content["location"] = self._relative(table.location)
        content["partitions"] = {
            key: self._relative(path) for key, path in table.partitions.items()
        }
        self.storage.write_json(self._path(table.name), content)

    def _relative(self, path: str) -> str:
        prefix = self.storage.root + "/"
        if not path.startswith(prefix):
            raise TerminalError(f"{path} is outside the lake root {self.storage.root}")
        return path[len(prefix) :]

    def check_names(self, table: CatalogTable) -> None:
        """Every name the inventory and the mapping admit is a folder and a JSON key here."""

    def create_or_check(self, table: CatalogTable) -> CatalogTable:
        """Register a table, or return the registered one if its schema is the same.

        A changed schema is an error naming the changes (SchemaChangedError): silently replacing
        it would hide data already in the lake.
        """
        existing = self.get(table.name)
        if existing is None:
            self._save(table)
            return table
        if not same_schema(existing, table):
            raise SchemaChangedError(f"lake table {table.database}.{table.name}", existing, table)
        return existing

    def register_partitions(self, table: str, partitions: dict[str, str]) -> None:
        existing = self.get(table)
        if existing is None:
            raise TerminalError(f"lake table {self.storage.database}.{table} is not registered")
        existing.partitions.update(partitions)
        self._save(existing)

    def unregister_partitions(self, table: str, specs: list[str]) -> None:
        existing = self.get(table)
        if existing is None:
            return
        for spec in specs:
            existing.partitions.pop(spec, None)
        self._save(existing)

    def replace(self, table: CatalogTable) -> None:
        """One atomic write: readers see the old definition or the new one, never a mix."""
        self._save(table)

    def drop(self, table: str) -> None:
        self.storage.delete_files([self._path(table)])
