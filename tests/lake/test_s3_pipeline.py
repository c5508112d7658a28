"""The demo with its lake on S3 (moto): upload, Glue tables field by field, verification, corruption.

The pipeline runs once for the module; each test reads what it left (the corruption test puts the
object it changed back).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeshift.artifacts import ALIGNMENT_JSON
from lakeshift.lake.glue import PARQUET_INPUT_FORMAT, PARQUET_OUTPUT_FORMAT, PARQUET_SERDE
from lakeshift.project import Project, load_project
from lakeshift.steps.align import align
from lakeshift.steps.outcome import TableOutcome
from lakeshift.steps.pipeline import run_pipeline

PREFIX = "migration/v1"
KEY_PATTERN = re.compile(
    rf"^{PREFIX}/demo/(customers|accounts|transactions)/_period=\d{{4}}(-\d{{2}})?/"
    r"\d{8}T\d{6}Z-[0-9a-f]{8}-\d{5}-\d{5}\.parquet$"
)
EXPECTED_GLUE_COLUMNS = {
    "customers": [
        ("customer_id", "bigint"),
        ("customer_name", "string"),
        ("email", "string"),
        ("city", "string"),
        ("birth_date", "date"),
        ("signup_ts", "timestamp"),
        ("is_active", "boolean"),
        ("credit_score", "bigint"),
        ("notes", "string"),
    ],
    "accounts": [
        ("account_id", "bigint"),
        ("customer_id", "bigint"),
        ("account_type", "string"),
        ("currency", "string"),
        ("balance", "decimal(14,2)"),
        ("interest_rate", "decimal(6,4)"),
        ("opened_on", "date"),
        ("closed_on", "date"),
        ("risk_weight", "double"),
    ],
    "transactions": [
        ("txn_id", "bigint"),
        ("account_id", "bigint"),
        ("transaction_ts", "timestamp"),
        ("amount", "decimal(12,2)"),
        ("fx_rate", "double"),
        ("channel", "string"),
        ("description", "string"),
        ("is_reversal", "boolean"),
    ],
}
METADATA_GLUE_COLUMNS = [
    ("_upload_timestamp", "timestamp"),
    ("_upload_date", "date"),
    ("_upload_batch_id", "string"),
]


@dataclass
class UploadedDemo:
    project: Project
    bucket: str
    aws: Any  # conftest.MotoAws
    outcomes: list[TableOutcome]
    log: str

    def glue_database(self) -> str:
        return self.bucket.replace("-", "_")


@pytest.fixture(scope="module")
def uploaded(tmp_path_factory: pytest.TempPathFactory, moto_aws: Any) -> Iterator[UploadedDemo]:
    bucket = moto_aws.new_bucket()
    meta = moto_aws.write_demo(tmp_path_factory.mktemp("s3demo") / "demo", bucket)
    project = load_project(meta)
    from loguru import logger

    log = io.StringIO()
    sink = logger.add(log, level="DEBUG")
    try:
        outcomes = run_pipeline(project)
    finally:
        logger.remove(sink)
    yield UploadedDemo(project, bucket, moto_aws, outcomes, log.getvalue())


def test_the_demo_uploaded_to_s3_verifies_as_match_with_duckdb_reading_s3(
    uploaded: UploadedDemo,
) -> None:
    assert {o.target_table: o.status for o in uploaded.outcomes} == {
        "customers": "match",
        "accounts": "match",
        "transactions": "match",
    }
    alignment = json.loads((uploaded.project.output / ALIGNMENT_JSON).read_text(encoding="utf-8"))
    assert sum(t["rows_compared"] for t in alignment["tables"]) == uploaded.aws.demo_rows
    assert {t["precision"]["timestamp"] for t in alignment["tables"]} == {"microsecond"}
    assert uploaded.aws.secret_key not in uploaded.log


def test_object_keys_are_deterministic_and_no_folder_markers_are_written(
    uploaded: UploadedDemo,
) -> None:
    keys = uploaded.aws.objects(uploaded.bucket)
    data = [k for k in keys if k.endswith(".parquet")]
    assert data and all(KEY_PATTERN.match(k) for k in data), data[:3]
    assert not [k for k in keys if k.endswith("/")]
    bookkeeping = {k for k in keys if not k.endswith(".parquet")}
    assert f"{PREFIX}/_lakeshift/manifest/demo/transactions.json" in bookkeeping


def test_glue_tables_and_partitions_match_the_lake_field_by_field(uploaded: UploadedDemo) -> None:
    glue = uploaded.aws.client("glue")
    database = uploaded.glue_database()
    assert glue.get_database(Name=database)["Database"]["Name"] == database
    keys = uploaded.aws.objects(uploaded.bucket)
    for table, columns in EXPECTED_GLUE_COLUMNS.items():
        definition = glue.get_table(DatabaseName=database, Name=table)["Table"]
        descriptor = definition["StorageDescriptor"]
        location = f"s3://{uploaded.bucket}/{PREFIX}/demo/{table}"
        assert definition["TableType"] == "EXTERNAL_TABLE"
        assert definition["Parameters"]["classification"] == "parquet"
        assert descriptor["Location"] == location
        assert descriptor["InputFormat"] == PARQUET_INPUT_FORMAT
        assert descriptor["OutputFormat"] == PARQUET_OUTPUT_FORMAT
        assert descriptor["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
        assert [(c["Name"], c["Type"]) for c in descriptor["Columns"]] == [
            *columns,
            *METADATA_GLUE_COLUMNS,
        ]
        assert definition["PartitionKeys"] == [{"Name": "_period", "Type": "string"}]
        partitions = glue.get_partitions(DatabaseName=database, TableName=table)["Partitions"]
        folders = {
            k.rsplit("/", 1)[0].rsplit("=", 1)[1]
            for k in keys
            if k.startswith(f"{PREFIX}/demo/{table}/")
        }
        assert sorted(p["Values"][0] for p in partitions) == sorted(folders)
        for partition in partitions:
            value = partition["Values"][0]
            part = partition["StorageDescriptor"]
            assert part["Location"] == f"{location}/_period={value}"
            assert part["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
            assert [(c["Name"], c["Type"]) for c in part["Columns"]] == [
                *columns,
                *METADATA_GLUE_COLUMNS,
            ]


def test_a_changed_value_in_an_object_on_s3_is_detected(uploaded: UploadedDemo) -> None:
    s3 = uploaded.aws.client("s3")
    key = sorted(
        k
        for k in uploaded.aws.objects(uploaded.bucket)
        if "/demo/transactions/" in k and k.endswith(".parquet")
    )[0]
    original = s3.get_object(Bucket=uploaded.bucket, Key=key)["Body"].read()
    data = pq.read_table(io.BytesIO(original))
    amounts = data.column("amount").to_pylist()
    amounts[0] += Decimal("0.01")
    changed = data.set_column(
        data.schema.get_field_index("amount"),
        data.schema.field("amount"),
        pa.array(amounts, data.schema.field("amount").type),
    )
    buffer = io.BytesIO()
    pq.write_table(changed, buffer)
    s3.put_object(Bucket=uploaded.bucket, Key=key, Body=buffer.getvalue())
    try:
        verdicts = {o.target_table: o for o in align(uploaded.project)}
    finally:
        s3.put_object(Bucket=uploaded.bucket, Key=key, Body=original)
    assert verdicts["transactions"].status == "mismatch"
    assert verdicts["customers"].status == verdicts["accounts"].status == "match"
    tables = json.loads((uploaded.project.output / ALIGNMENT_JSON).read_text(encoding="utf-8"))
    entry = next(t for t in tables["tables"] if t["target_table"] == "transactions")
    text = json.dumps(entry)
    assert "amount" in text
    assert str(data.column("txn_id")[0].as_py()) in text


def test_project_on_s3_needs_no_local_lake(uploaded: UploadedDemo) -> None:
    config = json.loads(Path(uploaded.project.migration_path).read_text(encoding="utf-8"))
    assert "lake" not in config
    assert not (uploaded.project.migration_path.parent / "lake").exists()
