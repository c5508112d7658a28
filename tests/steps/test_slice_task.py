"""One slice's write: `on_batch` is asked once more before the last file is closed, and a slice
that fails deletes the files it wrote."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from lakeshift.engines.base import Column, Scope
from lakeshift.lake.storage import LakeStorage
from lakeshift.lake.writer import METADATA_FIELDS
from lakeshift.steps.budget import BatchBudget
from lakeshift.steps.slice_task import SliceTask, write_slice
from lakeshift.types import Kind, LogicalType


class _Source:
    def __init__(self, unbounded: int | None = None) -> None:
        self.unbounded = unbounded  # the most a row holds in its LOBs
        self.batch_rows: list[int] = []

    def widest_unbounded_bytes(self, scope: Scope, columns: Sequence[Column]) -> int | None:
        return self.unbounded

    def stream(self, scope: Scope, columns: Sequence[Column], batch_rows: int) -> Iterator[Any]:
        self.batch_rows.append(batch_rows)
        for start in (0, 3):
            yield pa.record_batch({"x": pa.array(range(start, start + 3), pa.int64())})


def _task(folder: str) -> SliceTask:
    schema = pa.schema([pa.field("x", pa.int64()), *METADATA_FIELDS])
    column = Column("x", "INTEGER", LogicalType(Kind.INTEGER))
    return SliceTask(
        "t", "s1", 1, "", Scope("t"), (column,), ("x",), schema, folder, True, "b",
        datetime.now(UTC), "zstd", 1 << 20,
    )  # fmt: skip


@pytest.mark.parametrize("stop_at", [3, 0])
def test_a_slice_told_to_stop_after_a_batch_or_before_closing_leaves_no_file(
    tmp_path: Path, stop_at: int
) -> None:
    """`on_batch` sees each batch's rows, then 0 just before the last file is closed: the last
    moment a stop marker can keep a finished slice's files out of the lake."""
    seen: list[int] = []

    def on_batch(rows: int, rate: float, arrow_bytes: int) -> None:
        seen.append(rows)
        if rows == stop_at and len(seen) > 1:
            raise RuntimeError("stop")

    storage = LakeStorage.local(tmp_path, "db")
    with pytest.raises(RuntimeError, match="stop"):
        write_slice(_task(f"{tmp_path}/t"), storage, _Source(), BatchBudget(256, 1, 1000), on_batch)  # type: ignore[arg-type]
    assert seen == ([0, 3] if stop_at == 3 else [0, 3, 3, 0])
    assert not list((tmp_path / "t").glob("*.parquet"))


def test_a_slice_not_stopped_writes_its_rows(tmp_path: Path) -> None:
    seen: list[int] = []
    storage = LakeStorage.local(tmp_path, "db")
    record = write_slice(
        _task(f"{tmp_path}/t"), storage, _Source(), BatchBudget(256, 1, 1000),  # type: ignore[arg-type]
        lambda rows, rate, size: seen.append(rows),
    )  # fmt: skip
    assert (record.rows, seen) == (6, [0, 3, 3, 0])
    assert len(list((tmp_path / "t").glob("*.parquet"))) == 1


def test_a_slice_told_to_stop_before_it_starts_deletes_no_leftover(tmp_path: Path) -> None:
    """A slice that starts after its run failed must not delete what a rerun of the same slice
    is writing in its folder meanwhile."""
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "rerun-00001-00000.parquet").write_bytes(b"a rerun's file")

    def stopped(rows: int, rate: float, arrow_bytes: int) -> None:
        raise RuntimeError("stop")

    storage = LakeStorage.local(tmp_path, "db")
    with pytest.raises(RuntimeError, match="stop"):
        write_slice(_task(str(folder)), storage, _Source(), BatchBudget(256, 1, 1000), stopped)  # type: ignore[arg-type]
    assert (folder / "rerun-00001-00000.parquet").read_bytes() == b"a rerun's file"


def test_a_slice_asks_the_source_how_wide_its_lobs_are_before_the_first_batch(
    tmp_path: Path,
) -> None:
    storage = LakeStorage.local(tmp_path / "lake", "db")
    budget = BatchBudget(max_memory_mb=512, workers=1, chunk_size=50_000)
    narrow, wide = _Source(), _Source(unbounded=100 * 1024 * 1024)
    write_slice(_task(storage.table_location("t")), storage, narrow, budget)  # type: ignore[arg-type]
    write_slice(_task(storage.table_location("u")), storage, wide, budget)  # type: ignore[arg-type]
    assert narrow.batch_rows == [50_000]
    assert wide.batch_rows == [budget.rows_per_batch("u", _task("").columns, 100 * 1024 * 1024)]
    assert wide.batch_rows[0] < 2


def test_a_value_a_slice_refuses_is_named_with_its_slice(tmp_path: Path) -> None:
    """The error named table, column and value: in a table of hundreds of slices, not where."""
    from lakeshift.errors import ConversionError

    class Refusing(_Source):
        def stream(self, scope: Scope, columns: Sequence[Column], batch_rows: int) -> Iterator[Any]:
            yield from super().stream(scope, columns, batch_rows)
            raise ConversionError("main.t", "x", "value NaN has no decimal form")

    storage = LakeStorage.local(tmp_path / "lake", "db")
    task = dataclasses.replace(_task(storage.table_location("t")), slice_id="2024-02")
    with pytest.raises(ConversionError) as caught:
        write_slice(task, storage, Refusing(), BatchBudget(256, 1, 1000))  # type: ignore[arg-type]
    assert str(caught.value) == "main.t.x: value NaN has no decimal form (slice 2024-02)"
    assert (caught.value.table, caught.value.column) == ("main.t", "x")
    assert not list((tmp_path / "lake").rglob("*.parquet"))
