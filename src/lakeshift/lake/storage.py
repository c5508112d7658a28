"""Where lake files live: a root on a pyarrow filesystem (a local folder, or an S3 prefix).

Object keys are deterministic, as DESIGN.md fixes them:
`{root}/{database}/{table}/{partition}={value}/{batch}-{slice}-{n}.parquet`.
lakeshift's own bookkeeping (catalog, manifest) lives under `{root}/_lakeshift/`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.fs as pafs

if TYPE_CHECKING:
    from lakeshift.lake.s3 import S3Location

BOOKKEEPING = "_lakeshift"


@dataclass(frozen=True)
class LakeStorage:
    """A lake root on a filesystem. Paths are '/'-joined strings, as pyarrow.fs expects."""

    root: str
    fs: pafs.FileSystem
    database: str
    s3_location: S3Location | None = None  # set for a lake on S3; root is then `bucket/prefix`

    @classmethod
    def local(cls, folder: Path, database: str) -> LakeStorage:
        folder.mkdir(parents=True, exist_ok=True)
        return cls(str(folder.resolve()), pafs.LocalFileSystem(), database)

    @classmethod
    def s3(
        cls,
        bucket: str,
        prefix: str,
        database: str,
        *,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
    ) -> LakeStorage:
        """A lake under `s3://bucket/prefix`, read and written through pyarrow's S3FileSystem.

        Credentials come from the AWS `profile` (boto3 resolves it); `endpoint_url` points at an
        S3-compatible store. Object keys are `prefix/{database}/{table}/...`, as locally.
        """
        from lakeshift.lake.s3 import open_location, s3_filesystem

        location = open_location(
            bucket, prefix, profile=profile, region=region, endpoint_url=endpoint_url
        )
        return cls(location.root, s3_filesystem(location), database, location)

    def uri(self, path: str) -> str:
        """The path as other tools name it: `s3://bucket/key` on S3, the path itself locally."""
        return path if self.s3_location is None else f"s3://{path}"

    def display_root(self) -> str:
        return self.uri(self.root)

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def table_location(self, table: str) -> str:
        return self.path(self.database, table)

    def bookkeeping_path(self, kind: str, table: str, generation: str | None = None) -> str:
        """`_lakeshift/{kind}/{database}/{table}.json`; a replacement generation's own file is
        `_lakeshift/{kind}/{database}/{table}/{generation}.json`."""
        if generation is None:
            return self.path(BOOKKEEPING, kind, self.database, f"{table}.json")
        return self.path(BOOKKEEPING, kind, self.database, table, f"{generation}.json")

    def read_json(self, path: str) -> Any | None:
        if self.fs.get_file_info(path).type == pafs.FileType.NotFound:
            return None
        with self.fs.open_input_stream(path) as stream:
            return json.loads(stream.read().decode("utf-8"))

    def write_json(self, path: str, content: Any) -> None:
        """Write JSON so that a reader sees the old or the new file, never half of one."""
        if self.s3_location is not None:  # one PutObject is atomic already
            with self.fs.open_output_stream(path) as stream:
                stream.write(json.dumps(content, indent=1, sort_keys=True).encode("utf-8"))
            return
        parent = path.rsplit("/", 1)[0]
        self.fs.create_dir(parent, recursive=True)
        temporary = f"{path}.{uuid.uuid4().hex}.tmp"
        with self.fs.open_output_stream(temporary) as stream:
            stream.write(json.dumps(content, indent=1, sort_keys=True).encode("utf-8"))
        self.fs.move(temporary, path)

    def list_files(self, folder: str, suffix: str = ".parquet") -> list[str]:
        """Files directly in `folder` (not in its subfolders)."""
        return self._listed(folder, suffix, recursive=False)

    def list_tree(self, folder: str, suffix: str = ".parquet") -> list[str]:
        """Files under `folder` and all its subfolders."""
        return self._listed(folder, suffix, recursive=True)

    def _listed(self, folder: str, suffix: str, recursive: bool) -> list[str]:
        selector = pafs.FileSelector(folder, allow_not_found=True, recursive=recursive)
        return sorted(
            info.path
            for info in self.fs.get_file_info(selector)
            if info.type == pafs.FileType.File and info.path.endswith(suffix)
        )

    def delete_files(self, paths: list[str]) -> None:
        for path in paths:
            if self.fs.get_file_info(path).type == pafs.FileType.File:
                self.fs.delete_file(path)

    def file_size(self, path: str) -> int:
        return int(self.fs.get_file_info(path).size or 0)
