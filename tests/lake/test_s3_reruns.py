"""Upload reruns against S3 and Glue (moto): what a failed or cut-short run registered is
replaced or finished by the next plain upload, not left for --force."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from lakeshift.artifacts import ANALYSIS_PICKLE
from lakeshift.project import load_project
from lakeshift.steps.analyze import analyze
from lakeshift.steps.compare import compare
from lakeshift.steps.upload import upload


def test_a_first_upload_that_finished_no_slice_asks_for_no_force_when_the_schema_changes(
    tmp_path: Path, moto_aws: Any, bucket: str, make_project: Any
) -> None:
    path = tmp_path / "source.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE T (id INTEGER PRIMARY KEY, n NUMERIC)")
        connection.execute("INSERT INTO T VALUES (1, 0.3333333333333333)")
    table = {"source_table": "main.T", "target_table": "t"}

    def uploaded(mappings: dict[str, Any]) -> Any:
        meta = make_project(f"sqlite:///{path}", [table], mappings)
        moto_aws.point_at_s3(meta.parent, bucket)
        project = load_project(meta)
        analyze(project)
        [outcome] = upload(project, project.output / ANALYSIS_PICKLE)
        return outcome

    failed = uploaded({})
    assert failed.status == "failed" and "main.T.n" in failed.detail
    glue = moto_aws.client("glue")
    database = bucket.replace("-", "_")

    def glue_columns() -> list[str]:
        found = glue.get_table(DatabaseName=database, Name="t")["Table"]["StorageDescriptor"]
        return [column["Name"] for column in found["Columns"]]

    assert "n" in glue_columns()
    done = uploaded({"main.T": {"n": None}})
    assert done.status == "uploaded", done.detail
    assert "n" not in glue_columns()
    assert (
        glue.get_table(DatabaseName=database, Name="t")["Table"]["Parameters"]["lakeshift.complete"]
        == "true"
    )
    manifest = "migration/v1/_lakeshift/manifest/test/t.json"
    body = moto_aws.client("s3").get_object(Bucket=bucket, Key=manifest)["Body"].read()
    assert list(json.loads(body)["slices"]) == ["all"]


def test_a_replacement_cut_short_while_glue_deletes_gone_partitions_is_finished_by_a_plain_rerun(
    tmp_path: Path, moto_aws: Any, fault_proxy: Any
) -> None:
    """--force moved the table and its partitions to the new generation, then every
    BatchDeletePartition failed: the year the source no longer holds stayed registered at the
    old generation's files. The next plain upload unregisters it and deletes those files."""
    bucket = moto_aws.new_bucket()
    meta = moto_aws.write_demo(tmp_path / "demo", bucket, endpoint=fault_proxy.endpoint)
    project = load_project(meta)
    analyze(project)
    assert {o.status for o in upload(project, project.output / ANALYSIS_PICKLE)} == {"uploaded"}
    glue = moto_aws.client("glue")
    database = bucket.replace("-", "_")

    def partitions() -> dict[str, str]:
        found = glue.get_partitions(DatabaseName=database, TableName="customers")["Partitions"]
        return {
            p["Values"][0]: p["StorageDescriptor"]["Location"].split("/demo/customers/")[1]
            for p in found
        }

    assert sorted(partitions()) == ["2022", "2023", "2024"]
    with sqlite3.connect(meta.parent / "source.db") as connection:
        connection.execute("DELETE FROM customers WHERE substr(signup_ts, 1, 4) = '2022'")
    analyze(project)
    fault_proxy.plan.add("glue_denied", target="AWSGlue.BatchDeletePartition", times=None)
    forced = {
        o.target_table: o for o in upload(project, project.output / ANALYSIS_PICKLE, force=True)
    }
    fault_proxy.plan.rules.clear()
    assert forced["customers"].status == "failed"
    assert "delete partitions" in forced["customers"].detail
    left = partitions()
    assert left["2022"] == "_period=2022" and left["2023"].startswith("_v")

    [customers] = [
        o
        for o in upload(project, project.output / ANALYSIS_PICKLE)
        if o.target_table == "customers"
    ]
    assert customers.status == "uploaded", customers.detail
    now = partitions()
    assert sorted(now) == ["2023", "2024"] and all(f.startswith("_v") for f in now.values())
    keys = [
        k for k in moto_aws.objects(bucket) if "/demo/customers/" in k and k.endswith(".parquet")
    ]
    assert keys and all(k.split("/demo/customers/")[1].startswith("_v") for k in keys)
    manifests = [k for k in moto_aws.objects(bucket) if "/_lakeshift/manifest/demo/customers" in k]
    assert len(manifests) == 1 and "/_v" in manifests[0]
    [compared] = [o for o in compare(project) if o.target_table == "customers"]
    assert compared.status == "match", compared.detail
