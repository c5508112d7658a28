"""Corruption injection into a lake on S3 (moto), read by DuckDB over S3, catalog in Glue.

The same suite as the local lake (`corruption_support.CorruptionSuite`). Only the lake differs,
so one source is enough: the SQLite table is uploaded to S3 once for the module; each test
corrupts objects on S3, runs `align` from a copy of the project folder, and the objects are put
back afterwards.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corruption_support import (
    CorruptionSuite,
    S3LakeFiles,
    analyze_and_upload,
    sqlite_source,
    write_project,
)


@pytest.fixture(scope="module")
def uploaded(tmp_path_factory: pytest.TempPathFactory, moto_aws: Any) -> tuple[Path, S3LakeFiles]:
    """The SQLite table uploaded to a new bucket; the objects as uploaded are kept to restore."""
    folder = tmp_path_factory.mktemp("s3-corruption") / "project"
    folder.mkdir()
    bucket = moto_aws.new_bucket()
    url, table = sqlite_source(folder)
    write_project(folder, url, table)
    moto_aws.point_at_s3(folder, bucket)
    analyze_and_upload(folder)
    files = S3LakeFiles(moto_aws.client("s3"), bucket)
    assert files.names(), "the table was written to S3"
    assert not (folder / "lake").exists(), "nothing was written to a local lake"
    files.snapshot()
    return folder, files


@pytest.fixture
def project_copy(uploaded: tuple[Path, S3LakeFiles], tmp_path: Path) -> Path:
    folder = tmp_path / "copy"
    shutil.copytree(uploaded[0], folder)  # configs, source and output; the lake stays on S3
    return folder


@pytest.fixture
def lake(uploaded: tuple[Path, S3LakeFiles]) -> Iterator[S3LakeFiles]:
    files = uploaded[1]
    try:
        yield files
    finally:
        files.restore()


class TestS3Lake(CorruptionSuite):
    pass
