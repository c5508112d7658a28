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
