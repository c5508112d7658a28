"""The manifest: which slices of a table are finished, with their files and counts.

A slice is recorded only after all its files are written; a rerun skips recorded slices and
rewrites the others under the same deterministic names, so a crash loses and duplicates nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from lakeshift.lake.storage import LakeStorage

MANIFEST_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class SliceRecord:
    slice_id: str
    partition: str  # "key=value", or "" when the table is not partitioned
    batch_id: str
    files: list[str]
    rows: int
    bytes: int
    seconds: float
    uploaded_at: str  # ISO time stamped into _upload_timestamp


class Manifest:
    """The finished slices of one generation of a table's files: the first upload's (generation
    None, files under the table's folder), or a `--force` replacement's (`_v{batch}`)."""

    def __init__(self, storage: LakeStorage, table: str, generation: str | None = None):
        self.storage = storage
        self.table = table
        self.generation = generation
        self.path = storage.bookkeeping_path("manifest", table, generation)
        content = storage.read_json(self.path) or {}
        self.slices: dict[str, SliceRecord] = {
            slice_id: SliceRecord(**record)
            for slice_id, record in content.get("slices", {}).items()
        }
        # What shaped the slices (strategy, period, date column, filter): a resume under another
        # plan would keep slices that no longer mean what the plan says. None in older manifests.
        self.plan: dict[str, Any] | None = content.get("plan")

    def finished(self, slice_id: str) -> SliceRecord | None:
        return self.slices.get(slice_id)

    def record(self, record: SliceRecord) -> None:
        self.slices[record.slice_id] = record
        self._save()

    def clear(self) -> None:
        self.slices = {}
        self._save()

    def plan_to(self, plan: dict[str, Any]) -> None:
        """The plan the slices are written under (the caller checked it may change); saved
        with the next slice recorded, as it describes nothing before."""
        self.plan = plan

    def remove(self) -> None:
        self.slices = {}
        self.storage.delete_files([self.path])

    def _save(self) -> None:
        content: dict[str, Any] = {
            "schema_version": MANIFEST_SCHEMA_VERSION,
            "table": self.table,
            "generation": self.generation,
            "plan": self.plan,
            "slices": {
                slice_id: asdict(record) for slice_id, record in sorted(self.slices.items())
            },
        }
        self.storage.write_json(self.path, content)
