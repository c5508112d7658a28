"""Change the demo's lake after upload in known ways, so verification has something to find.

Each change is returned, so a test can check the report names exactly these and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lakeshift.lake.catalog import LocalCatalog
from lakeshift.lake.storage import LakeStorage


@dataclass(frozen=True)
class Drift:
    table: str
    kind: str  # "rows_removed", "value_changed", "column_nulled"
    column: str | None = None
    period: str | None = None
    keys: tuple[int, ...] = ()

    def describe(self) -> str:
        where = f" in period {self.period}" if self.period else ""
        keys = f" (keys {', '.join(map(str, self.keys))})" if self.keys else ""
        what = {
            "rows_removed": "rows removed",
            "value_changed": f"{self.column} changed",
            "column_nulled": f"{self.column} set to NULL in every row",
        }[self.kind]
        return f"{self.table}: {what}{where}{keys}"


def _files(storage: LakeStorage, table: str, partition: str | None = None) -> list[str]:
    entry = LocalCatalog(storage).get(table)
    assert entry is not None, f"{table} is not in the lake"
    folders = [entry.partitions[partition]] if partition else entry.data_locations()
    return [path for folder in folders for path in storage.list_files(folder)]


def _rewrite(storage: LakeStorage, path: str, table: pa.Table) -> None:
    with storage.fs.open_output_stream(path) as stream:
        pq.write_table(table, stream, compression="zstd")


def _read(storage: LakeStorage, path: str) -> pa.Table:
    with storage.fs.open_input_file(path) as handle:
        return pq.read_table(handle)


def apply_drift(storage: LakeStorage) -> list[Drift]:
    """Remove 3 transactions from one month, change one amount in another, null every e-mail."""
    entry = LocalCatalog(storage).get("transactions")
    assert entry is not None
    periods = sorted(entry.partitions)
    removed_partition, changed_partition = (
        periods[len(periods) // 2],
        periods[len(periods) // 2 + 1],
    )

    path = _files(storage, "transactions", removed_partition)[0]
    data = _read(storage, path)
    removed = tuple(data.column("txn_id").to_pylist()[:3])
    _rewrite(
        storage, path, data.filter(pc.invert(pc.is_in(data.column("txn_id"), pa.array(removed))))
    )

    path = _files(storage, "transactions", changed_partition)[0]
    data = _read(storage, path)
    amounts = data.column("amount").to_pylist()
    amounts[0] = amounts[0] + Decimal("1.00")
    changed_key = data.column("txn_id")[0].as_py()
    index = data.schema.get_field_index("amount")
    _rewrite(
        storage,
        path,
        data.set_column(
            index, data.schema.field(index), pa.array(amounts, data.schema.field(index).type)
        ),
    )

    for path in _files(storage, "customers"):
        data = _read(storage, path)
        index = data.schema.get_field_index("email")
        _rewrite(
            storage,
            path,
            data.set_column(index, data.schema.field(index), pa.nulls(data.num_rows, pa.string())),
        )

    return [
        Drift(
            "transactions", "rows_removed", period=removed_partition.split("=", 1)[1], keys=removed
        ),
        Drift(
            "transactions",
            "value_changed",
            column="amount",
            period=changed_partition.split("=", 1)[1],
            keys=(changed_key,),
        ),
        Drift("customers", "column_nulled", column="email"),
    ]
