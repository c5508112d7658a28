"""Preflight: prove the AWS set-up works before an upload spends hours finding out it does not.

One result per check, each one line saying what is wrong and what to do: the credentials work,
the bucket is writable (a small object put and deleted), the Glue database exists or can be
created, Athena's output location is reachable. A local lake gets one check: its folder is
writable. Nothing here reads the source database.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from loguru import logger

from lakeshift.engines.connect import open_lake
from lakeshift.errors import LakeshiftError
from lakeshift.lake.glue import GlueCatalog
from lakeshift.lake.retry import RetryPolicy, classify, with_retry
from lakeshift.lake.s3 import S3Location
from lakeshift.lake.storage import LakeStorage
from lakeshift.project import Project

PREFLIGHT_POLICY = RetryPolicy(attempts=3, base_seconds=0.2, cap_seconds=2.0)


@dataclass(frozen=True)
class CheckResult:
    name: str  # credentials, bucket, glue, athena, lake
    ok: bool
    message: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.message}"


def _run(name: str, what: str, probe: Callable[[], str]) -> CheckResult:
    try:
        message = with_retry(what, probe, PREFLIGHT_POLICY)
    except Exception as error:
        failure = classify(error, what) or error
        return CheckResult(name, False, " ".join(str(failure).split()))
    return CheckResult(name, True, message)


def _credentials(location: S3Location) -> str:
    if location.session.get_credentials() is None:
        raise LakeshiftError(
            f"no AWS credentials found for profile {location.profile or '(default)'}; "
            "set aws.profile in migration_config.cfg"
        )
    identity = location.client("sts").get_caller_identity()
    return f"authenticated as {identity['Arn']}"


def _writable(location: S3Location, bucket: str, prefix: str) -> str:
    key = "/".join(p for p in (prefix.strip("/"), "_lakeshift", "check", uuid.uuid4().hex) if p)
    s3 = location.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=b"lakeshift preflight\n")
    s3.delete_object(Bucket=bucket, Key=key)
    return f"s3://{bucket}/{key.rsplit('/', 1)[0]}/ is writable (object put and deleted)"


def _glue(storage: LakeStorage, database: str) -> str:
    created = GlueCatalog(storage, database).ensure_database()
    return f"Glue database {database} " + ("created" if created else "exists")


def _athena(location: S3Location, output: str | None, workgroup: str | None) -> str:
    found = []
    if workgroup:
        group = location.client("athena").get_work_group(WorkGroup=workgroup)["WorkGroup"]
        if group.get("State") != "ENABLED":
            raise LakeshiftError(f"Athena workgroup {workgroup} is {group.get('State')}")
        found.append(f"workgroup {workgroup} enabled")
    if output:
        parts = urlsplit(output)
        if parts.scheme != "s3" or not parts.netloc:
            raise LakeshiftError(f"aws.athena_output {output!r} is not an s3://bucket/prefix/ URI")
        found.append(_writable(location, parts.netloc, parts.path))
    return "; ".join(found)


def check(project: Project) -> list[CheckResult]:
    """Run every preflight check for the project's lake; never raises for a failed check."""
    migration = project.migration
    try:
        storage = open_lake(migration)
    except LakeshiftError as error:
        return [CheckResult("lake", False, str(error))]
    location = storage.s3_location
    if location is None:
        return [_run("lake", f"lake folder {storage.root}", lambda: _local(storage))]
    aws = migration.aws
    database = aws.glue_database or migration.database
    results = [
        _run("credentials", "AWS credentials", lambda: _credentials(location)),
        _run(
            "bucket",
            f"S3 bucket {location.uri()}",
            lambda: _writable(location, location.bucket, location.prefix),
        ),
        _run("glue", f"Glue database {database}", lambda: _glue(storage, database)),
    ]
    if aws.athena_output or aws.athena_workgroup:
        results.append(
            _run(
                "athena",
                f"Athena output {aws.athena_output or '(workgroup default)'}",
                lambda: _athena(location, aws.athena_output, aws.athena_workgroup),
            )
        )
    else:
        results.append(
            CheckResult("athena", True, "not configured (aws.athena_output): DuckDB verifies")
        )
    for result in results:
        (logger.info if result.ok else logger.error)("check {}", result.line())
    return results


def _local(storage: LakeStorage) -> str:
    path = storage.path("_lakeshift", "check", uuid.uuid4().hex)
    storage.write_json(path, {"check": True})
    storage.delete_files([path])
    return f"{storage.root} is writable"
