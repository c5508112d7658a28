"""Preflight `check`: one line per check, saying what is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lakeshift.project import load_project
from lakeshift.steps.check import check


def _set_aws(meta: Path, **aws: Any) -> None:
    path = meta.parent / "migration_config.cfg"
    config = json.loads(path.read_text(encoding="utf-8"))
    config["aws"].update(aws)
    path.write_text(json.dumps(config), encoding="utf-8")


def test_every_check_passes_on_a_working_set_up(tmp_path: Path, moto_aws: Any) -> None:
    bucket = moto_aws.new_bucket()
    meta = moto_aws.write_demo(tmp_path / "demo", bucket)
    _set_aws(meta, athena_output=f"s3://{bucket}/athena-results/", athena_workgroup="primary")
    results = check(load_project(meta))
    assert [r.name for r in results] == ["credentials", "bucket", "glue", "athena"]
    assert all(r.ok for r in results), [r.line() for r in results]
    assert "Glue database" in results[2].message and "created" in results[2].message
    assert not [k for k in moto_aws.objects(bucket) if "_lakeshift/check" in k]  # cleaned up
    assert check(load_project(meta))[2].message.endswith("exists")


def test_a_missing_bucket_and_an_unreachable_athena_output_are_named(
    tmp_path: Path, moto_aws: Any
) -> None:
    meta = moto_aws.write_demo(tmp_path / "demo", "lake-not-there")
    _set_aws(meta, athena_output="s3://athena-results-not-there/q/")
    results = {r.name: r for r in check(load_project(meta))}
    assert results["credentials"].ok
    assert not results["bucket"].ok
    assert "bucket does not exist" in results["bucket"].message
    assert "s3://lake-not-there/migration/v1" in results["bucket"].message
    assert not results["athena"].ok and "athena-results-not-there" in results["athena"].message
    assert all("\n" not in r.line() for r in results.values())


def test_access_denied_on_the_bucket_is_one_clear_line(
    tmp_path: Path, moto_aws: Any, fault_proxy: Any
) -> None:
    bucket = moto_aws.new_bucket()
    meta = moto_aws.write_demo(tmp_path / "demo", bucket, fault_proxy.endpoint)
    fault_proxy.plan.add("access_denied", method="PUT", times=None)
    results = {r.name: r for r in check(load_project(meta))}
    assert not results["bucket"].ok
    assert results["bucket"].line().startswith("FAIL bucket: ")
    assert "access denied" in results["bucket"].message
    assert results["glue"].ok and results["credentials"].ok


def test_a_local_lake_checks_its_folder(tmp_path: Path, make_project: Any) -> None:
    meta = make_project("sqlite:///nowhere.db", [{"source_table": "main.t"}])
    results = check(load_project(meta))
    assert [(r.name, r.ok) for r in results] == [("lake", True)]
