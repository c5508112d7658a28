"""GlueCatalog on moto: database creation, batch partition registration, schema changes."""

from __future__ import annotations

from typing import Any

import pytest

from lakeshift.errors import TerminalError
from lakeshift.lake.catalog import CatalogTable
from lakeshift.lake.glue import GlueCatalog, glue_type
from lakeshift.lake.storage import LakeStorage
from lakeshift.types import LogicalType

COLUMNS = [
    {"name": "id", "type": "integer", "source_type": "NUMBER(10)"},
    {"name": "amount", "type": "decimal(12,2)", "source_type": "NUMBER(12,2)"},
    {"name": "at", "type": "timestamp[UTC]", "source_type": "TIMESTAMP WITH TIME ZONE"},
]


def _catalog(moto_aws: Any, bucket: str, database: str, prefix: str = "p") -> GlueCatalog:
    storage = LakeStorage.s3(
        bucket,
        prefix,
        "sales",
        profile=moto_aws.profile,
        region=moto_aws.region,
        endpoint_url=moto_aws.endpoint,
    )
    return GlueCatalog(storage, database)


def _table(storage: LakeStorage, columns: list[dict[str, str]] = COLUMNS) -> CatalogTable:
    return CatalogTable(
        database="sales",
        name="orders",
        location=storage.table_location("orders"),
        columns=columns,
        partition_keys=["_period"],
        properties={"source_table": "APP.ORDERS", "date_column": None},
    )


def test_partitions_are_registered_in_batches_of_at_most_100_and_read_back(
    moto_aws: Any, bucket: str
) -> None:
    catalog = _catalog(moto_aws, bucket, bucket.replace("-", "_"))
    batches: list[int] = []
    catalog.client.meta.events.register(
        "provide-client-params.glue.BatchCreatePartition",
        lambda params, **_: batches.append(len(params["PartitionInputList"])),
    )
    table = catalog.create_or_check(_table(catalog.storage))
    folders = {f"_period={day:04d}": f"{table.location}/_period={day:04d}" for day in range(250)}
    catalog.register_partitions("orders", folders)
    catalog.register_partitions("orders", dict(list(folders.items())[:5]))  # a rerun: no error
    assert batches == [100, 100, 50, 5]
    entry = catalog.get("orders")
    assert entry is not None
    assert entry.partitions == folders
    assert entry.columns == COLUMNS
    assert entry.properties == {"source_table": "APP.ORDERS", "date_column": None}
    location = moto_aws.client("glue").get_partition(
        DatabaseName=catalog.glue_database, TableName="orders", PartitionValues=["0042"]
    )["Partition"]["StorageDescriptor"]["Location"]
    assert location == f"s3://{bucket}/p/sales/orders/_period=0042"


def test_the_glue_database_is_created_once_when_missing(moto_aws: Any, bucket: str) -> None:
    database = "created_" + bucket.replace("-", "_")
    catalog = _catalog(moto_aws, bucket, database)
    assert catalog.ensure_database() is True
    assert _catalog(moto_aws, bucket, database).ensure_database() is False
    assert moto_aws.client("glue").get_database(Name=database)["Database"]["Name"] == database


def test_a_changed_schema_is_a_terminal_error_not_an_overwrite(moto_aws: Any, bucket: str) -> None:
    catalog = _catalog(moto_aws, bucket, bucket.replace("-", "_"))
    catalog.create_or_check(_table(catalog.storage))
    changed = [
        *COLUMNS[:1],
        {**COLUMNS[1], "type": "decimal(14,2)"},
        {"name": "extra", "type": "string", "source_type": "TEXT"},
    ]
    table = _table(catalog.storage, changed)
    table.partition_keys = ["_key_range"]
    with pytest.raises(TerminalError) as refused:
        catalog.create_or_check(table)
    assert str(refused.value) == (
        f"Glue table {catalog.glue_database}.orders exists with another schema: "
        "column extra added (string); column at removed (timestamp[UTC]); "
        "column amount decimal(12,2) -> decimal(14,2); partitioning _period -> _key_range; "
        "rerun the upload with --force to replace it"
    )
    glue_columns = moto_aws.client("glue").get_table(
        DatabaseName=catalog.glue_database, Name="orders"
    )["Table"]["StorageDescriptor"]["Columns"]
    assert [c["Type"] for c in glue_columns] == ["bigint", "decimal(12,2)", "timestamp"]
    assert catalog.create_or_check(_table(catalog.storage)).columns == COLUMNS
    # a source type changed alone keeps the table: the lake's values are the same
    widened = [COLUMNS[0], {**COLUMNS[1], "source_type": "NUMBER(14,2)"}, COLUMNS[2]]
    assert catalog.create_or_check(_table(catalog.storage, widened)).columns == COLUMNS


def test_unpartitioned_tables_become_visible_only_when_their_slice_is_registered(
    moto_aws: Any, bucket: str
) -> None:
    catalog = _catalog(moto_aws, bucket, bucket.replace("-", "_"))
    table = _table(catalog.storage)
    table.partition_keys = []
    catalog.create_or_check(table)
    entry = catalog.get("orders")
    assert entry is not None and entry.data_locations() == []
    catalog.register_partitions("orders", {"": table.location})
    entry = catalog.get("orders")
    assert entry is not None and entry.data_locations() == [table.location]
    catalog.unregister_partitions("orders", [""])
    entry = _catalog(moto_aws, bucket, catalog.glue_database).get("orders")
    assert entry is not None and entry.data_locations() == []
    catalog.drop("orders")
    assert catalog.get("orders") is None


def test_replace_moves_partitions_adds_and_removes_them_and_changes_the_schema(
    moto_aws: Any, bucket: str
) -> None:
    catalog = _catalog(moto_aws, bucket, bucket.replace("-", "_"))
    table = catalog.create_or_check(_table(catalog.storage))
    catalog.register_partitions(
        "orders", {f"_period={p}": f"{table.location}/_period={p}" for p in range(130)}
    )
    generation = f"{table.location}/_v2"
    widened = [*COLUMNS[:1], {**COLUMNS[1], "type": "decimal(14,2)"}, *COLUMNS[2:]]
    replacement = _table(catalog.storage, widened)
    replacement.location = generation
    replacement.partitions = {f"_period={p}": f"{generation}/_period={p}" for p in range(10, 140)}
    catalog.replace(replacement)
    entry = catalog.get("orders")
    assert entry is not None
    assert entry.columns == widened and entry.location == generation
    assert entry.partitions == replacement.partitions  # 120 moved, 10 added, 10 removed

    unpartitioned = _table(catalog.storage)
    unpartitioned.partition_keys = []
    unpartitioned.location = f"{table.location}/_v3"
    unpartitioned.partitions = {"": unpartitioned.location}
    catalog.replace(unpartitioned)  # other partition keys: dropped and created again
    entry = catalog.get("orders")
    assert entry is not None and entry.partition_keys == []
    assert entry.data_locations() == [unpartitioned.location]


@pytest.mark.parametrize(
    ("logical", "expected"),
    [
        ("decimal(38,10)", "decimal(38,10)"),
        ("timestamp", "timestamp"),
        ("timestamp[UTC]", "timestamp"),
        ("date", "date"),
        ("boolean", "boolean"),
        ("binary", "binary"),
        ("string", "string"),
        ("integer", "bigint"),
        ("float", "double"),
    ],
)
def test_logical_types_map_to_glue_types(logical: str, expected: str) -> None:
    assert glue_type(LogicalType.parse(logical)) == expected


def test_decimals_wider_than_athena_allows_are_refused_with_a_hint() -> None:
    with pytest.raises(TerminalError, match="precision at most 38"):
        glue_type(LogicalType.parse("decimal(40,2)"))


class RefuseOnce:
    """A Glue client whose first batch call of `operation` keeps its first partition back and
    answers for it with `code`, as Glue reports per-partition errors; the rest goes to moto."""

    def __init__(
        self,
        client: Any,
        operation: str,
        items: str,
        values: str,
        code: str,
        named: list[str] | None = None,
    ):
        self.client, self.operation, self.items = client, operation, items
        self.values, self.code, self.named = values, code, named
        self.calls: list[int] = []

    def __getattr__(self, name: str) -> Any:
        if name != self.operation:
            return getattr(self.client, name)

        def call(**arguments: Any) -> Any:
            batch = arguments[self.items]
            self.calls.append(len(batch))
            if len(self.calls) > 1:
                return getattr(self.client, name)(**arguments)
            kept, rest = batch[0], batch[1:]
            response = getattr(self.client, name)(**{**arguments, self.items: rest})
            values = kept["PartitionValueList"] if "PartitionValueList" in kept else kept["Values"]
            values = self.named if self.named is not None else values
            refusal = {self.values: values, "ErrorDetail": {"ErrorCode": self.code}}
            return {**response, "Errors": [*response.get("Errors", []), refusal]}

        return call


@pytest.mark.parametrize("step", ["create", "move"])
def test_throttled_partitions_are_sent_again_and_other_refusals_name_the_partition(
    moto_aws: Any, bucket: str, step: str
) -> None:
    catalog = _catalog(moto_aws, bucket, bucket.replace("-", "_"))
    catalog.sleep = lambda _: None
    table = catalog.create_or_check(_table(catalog.storage))
    folders = {f"_period={p}": f"{table.location}/_period={p}" for p in range(5)}
    if step == "move":
        catalog.register_partitions("orders", folders)
        table.location = f"{table.location}/_v2"
        folders = {spec: f"{table.location}/{spec}" for spec in folders}
        table.partitions = folders
    operation, items, values = (
        ("batch_create_partition", "PartitionInputList", "PartitionValues")
        if step == "create"
        else ("batch_update_partition", "Entries", "PartitionValueList")
    )

    def run(client: Any) -> None:
        catalog.client = client
        if step == "create":
            catalog.register_partitions("orders", folders)
        else:
            catalog.replace(table)

    real = catalog.client
    throttled = RefuseOnce(real, operation, items, values, "ThrottlingException")
    run(throttled)
    assert throttled.calls == [5, 1]
    entry = catalog.get("orders")
    assert entry is not None and entry.partitions == folders

    if step == "move":
        table.location = table.location.replace("_v2", "_v3")
        folders = {spec: f"{table.location}/{spec}" for spec in folders}
        table.partitions = folders
    else:
        folders = {f"_period={p}": f"{table.location}/_period={p}" for p in range(5, 10)}
    refused = RefuseOnce(real, operation, items, values, "InvalidInputException")
    with pytest.raises(TerminalError, match=r"partition \['(0|5)'\]: InvalidInputException"):
        run(refused)
    assert refused.calls == [5]


def test_a_throttled_refusal_naming_no_sent_partition_is_never_taken_for_success(
    moto_aws: Any, bucket: str
) -> None:
    catalog = _catalog(moto_aws, bucket, bucket.replace("-", "_"))
    catalog.sleep = lambda _: None
    table = catalog.create_or_check(_table(catalog.storage))
    folders = {f"_period={p}": f"{table.location}/_period={p}" for p in range(3)}
    catalog.client = RefuseOnce(
        catalog.client,
        "batch_create_partition",
        "PartitionInputList",
        "PartitionValues",
        "ThrottlingException",
        named=["9999"],
    )
    with pytest.raises(TerminalError, match=r"names values \['9999'\] that were not sent"):
        catalog.register_partitions("orders", folders)


def test_a_table_another_lake_registered_is_refused_not_read(moto_aws: Any, bucket: str) -> None:
    """Two prefixes sharing one Glue database: the second lake's slices would be written to its
    own prefix while compare and align read the first's files through Glue."""
    database = bucket.replace("-", "_")
    first = _catalog(moto_aws, bucket, database)
    first.create_or_check(_table(first.storage))
    other = _catalog(moto_aws, bucket, database, prefix="q")
    with pytest.raises(TerminalError, match=r"points at s3://.*/p/sales/orders, not at .*/q/sales"):
        other.create_or_check(_table(other.storage))


def test_a_partition_registered_elsewhere_is_moved_to_the_folder_registered_now(
    moto_aws: Any, bucket: str
) -> None:
    """A replacement interrupted between UpdateTable and its partitions left them on the old
    folders; the rerun registering them again must move them, not keep them."""
    catalog = _catalog(moto_aws, bucket, bucket.replace("-", "_"))
    table = catalog.create_or_check(_table(catalog.storage))
    catalog.register_partitions("orders", {"_period=2024-01": f"{table.location}/_period=2024-01"})
    moved = f"{table.location}/_v2/_period=2024-01"
    catalog.register_partitions("orders", {"_period=2024-01": moved})
    entry = _catalog(moto_aws, bucket, catalog.glue_database).get("orders")
    assert entry is not None and entry.partitions == {"_period=2024-01": moved}


def test_a_replacement_whose_create_answer_was_lost_still_lands(moto_aws: Any, bucket: str) -> None:
    """CreateTable succeeded but its answer was lost: the retry's AlreadyExists is no failure."""
    from botocore.exceptions import ClientError

    catalog = _catalog(moto_aws, bucket, bucket.replace("-", "_"))
    create = catalog.client.create_table

    def created_then_lost(**arguments: Any) -> Any:
        create(**arguments)
        raise ClientError(
            {"Error": {"Code": "AlreadyExistsException", "Message": "exists"}}, "CreateTable"
        )

    catalog.client.create_table = created_then_lost  # type: ignore[method-assign]
    table = _table(catalog.storage)
    table.partitions = {"_period=2024-01": f"{table.location}/_period=2024-01"}
    catalog.replace(table)
    entry = _catalog(moto_aws, bucket, catalog.glue_database).get("orders")
    assert entry is not None and entry.partitions == table.partitions


@pytest.mark.parametrize(
    ("glue", "logical"),
    [
        ("int", "integer"),
        ("smallint", "integer"),
        ("float", "float"),
        ("double", "float"),
        ("varchar(20)", "string"),
        ("decimal(10,2)", "decimal(10,2)"),
        ("timestamp", "timestamp"),
    ],
)
def test_a_table_another_writer_declared_is_read_by_its_glue_types(glue: str, logical: str) -> None:
    from lakeshift.lake.glue import _column

    assert _column({"Name": "c", "Type": glue})["type"] == logical


def test_a_glue_type_no_logical_type_holds_is_named() -> None:
    from lakeshift.lake.glue import _column

    with pytest.raises(TerminalError, match=r"column tags has type array<string>"):
        _column({"Name": "tags", "Type": "array<string>"})


def test_a_mixed_case_name_is_refused_before_anything_is_registered(
    moto_aws: Any, bucket: str
) -> None:
    """Glue keeps table names in lower case and Athena every name: `Amount` registered as
    written may be read back as `amount`, and every later run refused as another schema."""
    catalog = _catalog(moto_aws, bucket, bucket.replace("-", "_"))
    mixed = _table(catalog.storage, [COLUMNS[0], {**COLUMNS[1], "name": "Amount"}])
    mixed.name = "Orders"
    for register in (catalog.create_or_check, catalog.replace):
        with pytest.raises(TerminalError, match="Orders, Amount are not"):
            register(mixed)
    assert catalog.ensure_database() is True  # nothing was made before the refusal


@pytest.mark.parametrize("force", [False, True])
def test_an_upload_to_glue_refuses_a_mixed_case_target_before_writing_a_file(
    moto_aws: Any, bucket: str, tmp_path: Any, make_project: Any, force: bool
) -> None:
    """A --force registers its table only once every slice is written: the refusal came after
    the whole upload."""
    import sqlite3

    from lakeshift.artifacts import ANALYSIS_PICKLE
    from lakeshift.project import load_project
    from lakeshift.steps.analyze import analyze
    from lakeshift.steps.upload import upload

    with sqlite3.connect(tmp_path / "source.db") as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        connection.execute("INSERT INTO t VALUES (1, 'a')")
    meta = make_project(
        f"sqlite:///{tmp_path / 'source.db'}",
        [{"source_table": "main.t", "target_table": "Orders"}],
    )
    moto_aws.point_at_s3(meta.parent, bucket)
    project = load_project(meta)
    analyze(project)
    [outcome] = upload(project, project.output / ANALYSIS_PICKLE, force=force)
    assert outcome.status == "failed" and "Orders is not" in outcome.detail
    assert not [key for key in moto_aws.objects(bucket) if key.endswith(".parquet")]
