"""The local catalog: a changed table is refused naming what changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakeshift.lake.catalog import CatalogTable, LocalCatalog, SchemaChangedError
from lakeshift.lake.storage import LakeStorage

COLUMNS = [
    {"name": "id", "type": "integer", "source_type": "INTEGER"},
    {"name": "amount", "type": "decimal(12,2)", "source_type": "NUMERIC(12,2)"},
]


def _table(storage: LakeStorage, columns: list[dict[str, str]], keys: list[str]) -> CatalogTable:
    return CatalogTable("lakeshift", "orders", storage.table_location("orders"), columns, keys)


@pytest.mark.parametrize(
    ("columns", "keys", "message"),
    [
        (
            [*COLUMNS, {"name": "extra", "type": "string", "source_type": "TEXT"}],
            ["_key_range"],
            "another schema: column extra added (string); partitioning _period -> _key_range;",
        ),
        (COLUMNS[:1], ["_period"], "another schema: column amount removed (decimal(12,2));"),
        (
            [COLUMNS[0], {**COLUMNS[1], "type": "float"}],
            ["_period"],
            "another schema: column amount decimal(12,2) -> float;",
        ),
        (
            [COLUMNS[0], {**COLUMNS[1], "source_type": "NUMERIC(12,3)"}],
            [],
            "another partitioning: column amount source type NUMERIC(12,2) -> NUMERIC(12,3); "
            "partitioning _period -> none;",
        ),
        (COLUMNS[::-1], ["_period"], "another schema: column order id, amount -> amount, id;"),
        (COLUMNS, [], "another partitioning: partitioning _period -> none;"),
    ],
)
def test_a_changed_table_is_refused_naming_each_change(
    tmp_path: Path, columns: list[dict[str, str]], keys: list[str], message: str
) -> None:
    storage = LakeStorage.local(tmp_path / "lake", "lakeshift")
    catalog = LocalCatalog(storage)
    catalog.create_or_check(_table(storage, COLUMNS, ["_period"]))
    with pytest.raises(SchemaChangedError) as refused:
        catalog.create_or_check(_table(storage, columns, keys))
    assert str(refused.value) == (
        f"lake table lakeshift.orders exists with {message} "
        "rerun the upload with --force to replace it"
    )
    assert refused.value.registered.columns == COLUMNS
    entry = catalog.get("orders")
    assert entry is not None and entry.columns == COLUMNS and entry.partition_keys == ["_period"]


def test_a_source_type_changed_alone_keeps_the_table(tmp_path: Path) -> None:
    """The lake holds the same values: a source column widened (VARCHAR2(20) to (40)), or source
    types named more fully by a newer lakeshift, asked for --force, a whole upload again."""
    storage = LakeStorage.local(tmp_path / "lake", "lakeshift")
    catalog = LocalCatalog(storage)
    catalog.create_or_check(_table(storage, COLUMNS, ["_period"]))
    widened = [COLUMNS[0], {**COLUMNS[1], "source_type": "NUMERIC(14,2)"}]
    kept = catalog.create_or_check(_table(storage, widened, ["_period"]))
    assert kept.columns == COLUMNS
