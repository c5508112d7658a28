"""The lake side of verification's pass 1 on a Dask cluster: one DuckDB per Parquet file.

Pass 1 returns, per (period, bucket), a row count and the sum of 60-bit row hashes: both are
sums, so they can be computed file by file and added up. Each task opens DuckDB on one file of
the lake table and asks it the very question the lake engine asks (`DuckDBEngine` inherits
`bucket_checksums` and every SQL fragment it is made of), so the total equals the single-machine
result exactly. Only the per-group sums travel back to the client; the files stay where they are
and each worker reads them with its own credentials (`open_lake` from the migration config).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lakeshift.cluster import task_key
from lakeshift.config import MigrationConfig
from lakeshift.engines.base import GroupSum, GroupSums, RowPlan, Scope
from lakeshift.engines.duckdb import DuckDBEngine
from lakeshift.errors import TerminalError
from lakeshift.lake.catalog import Catalog, CatalogTable, data_files
from lakeshift.lake.file_schema import check_file_schemas
from lakeshift.lake.storage import LakeStorage

if TYPE_CHECKING:
    from distributed import Client

Group = tuple[str | None, int]


class _OneTable:
    """A read-only catalog holding one table, as the client saw it."""

    def __init__(self, storage: LakeStorage, entry: CatalogTable):
        self.storage = storage
        self.entry = entry

    def get(self, table: str) -> CatalogTable | None:
        return self.entry if table == self.entry.name else None

    def check_names(self, table: CatalogTable) -> None:
        raise TerminalError("the catalog of a checksum task is read-only")

    def create_or_check(self, table: CatalogTable) -> CatalogTable:
        raise TerminalError("the catalog of a checksum task is read-only")

    def register_partitions(self, table: str, partitions: dict[str, str]) -> None:
        raise TerminalError("the catalog of a checksum task is read-only")

    def unregister_partitions(self, table: str, specs: list[str]) -> None:
        raise TerminalError("the catalog of a checksum task is read-only")

    def replace(self, table: CatalogTable) -> None:
        raise TerminalError("the catalog of a checksum task is read-only")

    def drop(self, table: str) -> None:
        raise TerminalError("the catalog of a checksum task is read-only")


class ParquetFileEngine(DuckDBEngine):
    """The lake engine with its table narrowed to one Parquet file."""

    def __init__(
        self, storage: LakeStorage, entry: CatalogTable, path: str, memory_limit_mb: int = 512
    ):
        catalog: Catalog = _OneTable(storage, entry)
        super().__init__(catalog, memory_limit_mb=memory_limit_mb, threads=1)
        self.path = path

    def _data_files(self, entry: CatalogTable) -> list[str]:
        return [self.path]


def file_bucket_checksums(
    migration: MigrationConfig,
    entry: CatalogTable,
    path: str,
    scope: Scope,
    plan: RowPlan,
    timestamps_at: str | None = None,
) -> dict[Group, GroupSum]:
    """Pass-1 groups of one Parquet file of a lake table (a Dask task; runs anywhere)."""
    from lakeshift.engines.connect import open_lake

    engine = ParquetFileEngine(open_lake(migration), entry, path, migration.max_memory_mb)
    try:
        if timestamps_at is not None:
            engine.compare_timestamps_at(timestamps_at)
        return {(p, b): sums for p, b, sums in engine.bucket_checksums(scope, plan)}
    finally:
        engine.close()


def add_groups(total: dict[Group, GroupSum], part: dict[Group, GroupSum]) -> None:
    """Add one file's groups into the running total (counts and checksums are plain sums)."""
    for group, sums in part.items():
        seen = total.get(group)
        total[group] = (
            sums
            if seen is None
            else GroupSum(seen.count + sums.count, seen.checksum + sums.checksum)
        )


def cluster_bucket_checksums(
    client: Client,
    migration: MigrationConfig,
    entry: CatalogTable,
    scope: Scope,
    plan: RowPlan,
    timestamps_at: str | None = None,
    on_file: Callable[[int], None] | None = None,
) -> dict[Group, GroupSum]:
    """Pass 1 of a lake table computed per file on the cluster and added up on the client.

    Equals the groups `DuckDBEngine.bucket_checksums(scope, plan)` streams over the same catalog
    entry exactly.
    """
    from distributed import as_completed

    from lakeshift.engines.connect import open_lake

    storage = open_lake(migration)
    files = data_files(storage, entry)
    check_file_schemas(storage, entry, files)  # each worker would cast a foreign file silently
    run = uuid.uuid4().hex  # keys of an earlier call must not hand back its results
    futures = [
        client.submit(
            file_bucket_checksums,
            migration,
            entry,
            path,
            scope,
            plan,
            timestamps_at,
            key=task_key("lake-checksum", entry.name, f"{index:05d}", run),
            pure=False,
        )
        for index, path in enumerate(files)
    ]
    total: dict[Group, GroupSum] = {}
    try:
        for done, future in enumerate(as_completed(futures), start=1):
            add_groups(total, future.result())
            if on_file is not None:
                on_file(done)
    finally:
        for future in futures:
            future.cancel()
    return total


class ClusterDuckDBEngine(DuckDBEngine):
    """The lake engine whose pass 1 runs on a Dask cluster; every other question runs here."""

    def __init__(
        self, catalog: Catalog, client: Client, migration: MigrationConfig, **options: Any
    ):
        super().__init__(catalog, **options)
        self.client = client
        self.migration = migration

    def bucket_checksums(self, scope: Scope, plan: RowPlan) -> GroupSums:
        # The files' partial sums add up on the client, which holds every group of the table
        # until the last file is in; only then can they stream out in bucket order.
        entry = self._ensure_view(scope.table)
        total = cluster_bucket_checksums(
            self.client, self.migration, entry, scope, plan, self.timestamps_at
        )
        for (period, bucket), sums in sorted(total.items(), key=lambda item: item[0][1]):
            yield period, bucket, sums
