"""Faults between lakeshift and S3/Glue: transient ones are survived, permanent ones explained.

A proxy in front of moto answers chosen requests with 503 SlowDown, 500 InternalError, Glue
throttling, or drops the connection (before or after moto did the work). The rows in the lake are
then counted straight from moto, independently of lakeshift's manifest and catalog.
"""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from loguru import logger

from lakeshift.artifacts import ANALYSIS_PICKLE
from lakeshift.errors import TerminalError, TransientError
from lakeshift.lake.retry import RetryPolicy, with_retry
from lakeshift.project import load_project
from lakeshift.steps.analyze import analyze
from lakeshift.steps.upload import upload

KEYS = {"customers": "customer_id", "accounts": "account_id", "transactions": "txn_id"}


def _lake_rows(aws: Any, bucket: str) -> dict[str, list[int]]:
    """Keys of every row in every Parquet object of the bucket, by table, read from moto."""
    s3 = aws.client("s3")
    rows: dict[str, list[int]] = {table: [] for table in KEYS}
    for key in aws.objects(bucket):
        if key.endswith(".parquet"):
            table = key.split("/")[3]
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            rows[table] += pq.read_table(io.BytesIO(body)).column(KEYS[table]).to_pylist()
    return rows


def _source_keys(meta: Path) -> dict[str, list[int]]:
    connection = sqlite3.connect(meta.parent / "source.db")
    try:
        return {
            table: sorted(k for (k,) in connection.execute(f"SELECT {key} FROM {table}"))
            for table, key in KEYS.items()
        }
    finally:
        connection.close()


def _run_upload(meta: Path) -> tuple[list[Any], str]:
    project = load_project(meta)
    log = io.StringIO()
    sink = logger.add(log, level="WARNING")
    try:
        analyze(project)
        outcomes = upload(project, project.output / ANALYSIS_PICKLE)
    finally:
        logger.remove(sink)
    return outcomes, log.getvalue()


def test_upload_survives_throttling_5xx_and_dropped_connections_without_losing_or_duplicating_rows(
    tmp_path: Path, moto_aws: Any, fault_proxy: Any
) -> None:
    bucket = moto_aws.new_bucket()
    meta = moto_aws.write_demo(tmp_path / "demo", bucket, endpoint=fault_proxy.endpoint)
    plan = fault_proxy.plan
    data = {"method": "PUT", "path_contains": ".parquet"}
    plan.add("slowdown", skip=1, **data)
    plan.add("internal", skip=3, **data)
    plan.add("reset", skip=5, **data)
    plan.add("reset_after", skip=7, **data)  # moto stored the object; the answer is lost
    plan.add("slowdown", method="GET", path_contains="list-type=2", skip=2)
    plan.add("reset", method="GET", path_contains="list-type=2", skip=6)
    plan.add("glue_throttle", target="AWSGlue.BatchCreatePartition", skip=1)
    plan.add("reset_after", target="AWSGlue.BatchCreatePartition", skip=4)
    plan.add("glue_internal", target="AWSGlue.GetTable", skip=2)

    outcomes, log = _run_upload(meta)

    assert {o.target_table: o.status for o in outcomes} == dict.fromkeys(KEYS, "uploaded")
    assert len(plan.injected) == len(plan.rules), plan.injected
    lake = _lake_rows(moto_aws, bucket)
    source = _source_keys(meta)
    for table in KEYS:
        assert len(lake[table]) == len(set(lake[table])), f"{table}: duplicated rows"
        assert sorted(lake[table]) == source[table], f"{table}: rows lost"
    # boto3-level retries are lakeshift's own and logged; pyarrow's SDK retries the data requests.
    assert "Glue create partitions" in log and "retrying in" in log
    assert "S3 list" in log
    partitions = {
        p["Values"][0]
        for p in moto_aws.client("glue").get_partitions(
            DatabaseName=bucket.replace("-", "_"), TableName="transactions"
        )["Partitions"]
    }
    folders = {
        k.split("/")[4].split("=")[1]
        for k in moto_aws.objects(bucket)
        if k.endswith(".parquet") and "/transactions/" in k
    }
    assert partitions == folders


def _single_reason(outcomes: list[Any]) -> str:
    reasons = {o.detail for o in outcomes}
    assert {o.status for o in outcomes} == {"failed"}
    assert all("\n" not in reason for reason in reasons)
    return " ".join(sorted(reasons))


def test_a_missing_bucket_fails_every_table_at_once_with_one_clear_line(
    tmp_path: Path, moto_aws: Any, fault_proxy: Any
) -> None:
    meta = moto_aws.write_demo(tmp_path / "demo", "lake-does-not-exist", fault_proxy.endpoint)
    outcomes, log = _run_upload(meta)
    reason = _single_reason(outcomes)
    assert "bucket does not exist" in reason and "aws.s3_bucket" in reason
    assert "s3://lake-does-not-exist/migration/v1/demo/" in reason
    assert "retrying" not in log  # terminal: no retry
    assert not [r for r in fault_proxy.plan.injected]


def test_access_denied_fails_every_table_at_once_with_one_clear_line(
    tmp_path: Path, moto_aws: Any, fault_proxy: Any
) -> None:
    bucket = moto_aws.new_bucket()
    meta = moto_aws.write_demo(tmp_path / "demo", bucket, fault_proxy.endpoint)
    fault_proxy.plan.add("access_denied", method="PUT", times=None)
    outcomes, log = _run_upload(meta)
    reason = _single_reason(outcomes)
    assert "access denied" in reason and "IAM" in reason
    assert "retrying" not in log
    assert not [k for k in moto_aws.objects(bucket) if k.endswith(".parquet")]


def test_with_retry_retries_transient_errors_with_growing_jittered_delays() -> None:
    attempts: list[int] = []
    delays: list[float] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 4:
            raise TransientError("S3 put: SlowDown")
        return "done"

    policy = RetryPolicy(attempts=5, base_seconds=1.0, cap_seconds=100.0)
    assert with_retry("S3 put", flaky, policy, sleep=delays.append) == "done"
    assert len(attempts) == 4
    assert len(delays) == 3
    assert all(0 <= d <= 2**n for n, d in enumerate(delays, start=1))


def test_with_retry_gives_up_after_its_attempts_and_never_retries_terminal_errors() -> None:
    calls: list[int] = []

    def throttled() -> None:
        calls.append(1)
        raise TransientError("Glue: ThrottlingException")

    with pytest.raises(TransientError, match="gave up after 3 attempts"):
        with_retry("Glue", throttled, RetryPolicy(attempts=3), sleep=lambda _: None)
    assert len(calls) == 3

    def denied() -> None:
        calls.append(1)
        raise OSError("When listing: AWS Error ACCESS_DENIED during ListObjectsV2 operation")

    with pytest.raises(TerminalError, match="access denied"):
        with_retry("S3 list s3://b/p", denied, RetryPolicy(attempts=3), sleep=lambda _: None)
    assert len(calls) == 4
