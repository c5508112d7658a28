"""The S3 filesystem on moto: what deleting files leaves in the bucket; pickling it."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from lakeshift.lake.storage import LakeStorage


def _storage(moto_aws: Any, bucket: str) -> LakeStorage:
    return LakeStorage.s3(
        bucket,
        "lake",
        "sales",
        profile=moto_aws.profile,
        region=moto_aws.region,
        endpoint_url=moto_aws.endpoint,
    )


def test_deleting_every_file_of_a_folder_leaves_no_folder_marker(
    moto_aws: Any, bucket: str
) -> None:
    """pyarrow's delete wrote an empty `folder/` object for each folder it emptied: every
    replaced generation left one per partition, and a resumed run one in its partition."""
    storage = _storage(moto_aws, bucket)
    paths = [
        storage.path("sales", "orders", "_period=2024-01", f"part-{i}.parquet") for i in (0, 1)
    ]
    for path in paths:
        with storage.fs.open_output_stream(path) as stream:
            stream.write(b"x")
    assert sorted(moto_aws.objects(bucket)) == [p.split("/", 1)[1] for p in paths]
    storage.delete_files(paths)
    assert moto_aws.objects(bucket) == []


def test_the_s3_filesystem_pickles_and_deletes_where_it_is_unpickled(
    moto_aws: Any, bucket: str
) -> None:
    """Its location holds a boto3 session, which does not pickle; the profile is resolved
    again where it is unpickled (a Dask worker, a process pool)."""
    storage = _storage(moto_aws, bucket)
    path = storage.path("sales", "orders", "part-0.parquet")
    with storage.fs.open_output_stream(path) as stream:
        stream.write(b"x")
    copy = pickle.loads(pickle.dumps(storage.fs))
    copy.delete_file(path)
    assert moto_aws.objects(bucket) == []


def test_a_location_handed_to_a_machine_without_its_profile_says_so(
    moto_aws: Any, bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from lakeshift.errors import ConfigError

    state = pickle.dumps(_storage(moto_aws, bucket).s3_location)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    with pytest.raises(ConfigError, match="is not in the AWS config files of this machine"):
        pickle.loads(state)
