"""The upload metadata columns, built from raw buffers instead of Python objects."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pyarrow as pa
import pytest

from lakeshift.lake.writer import METADATA_FIELDS, with_metadata

MOMENTS = [
    datetime(2026, 12, 1, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999999),  # naive: UTC wall time, before the epoch
    datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=2))),  # the day before in UTC
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_metadata_columns_equal_what_pyarrow_converts(moment: datetime) -> None:
    batch = pa.record_batch([pa.array([1, 2, 3])], names=["x"])
    got = with_metadata(batch, moment, "batch-ü|1")
    values = (moment, moment.date(), "batch-ü|1")
    wanted = [
        pa.repeat(pa.scalar(v, f.type), 3) for v, f in zip(values, METADATA_FIELDS, strict=True)
    ]
    assert got.schema.names == ["x", "_upload_timestamp", "_upload_date", "_upload_batch_id"]
    assert got.columns[1:] == wanted


def test_another_moment_gives_other_columns() -> None:
    batch = pa.record_batch([pa.array([1])], names=["x"])
    first = with_metadata(batch, MOMENTS[0], "b")
    assert with_metadata(batch, MOMENTS[0] + timedelta(microseconds=1), "b") != first
    assert with_metadata(batch, MOMENTS[0], "c") != first


def test_writing_metadata_does_not_import_pandas() -> None:
    """pyarrow imports pandas before converting any Python object: 0.3 s and 40 MB an upload
    does not need (the ADBC DB-API module would import it too, and polars)."""
    code = (
        "import sys; from datetime import datetime, UTC; import pyarrow as pa;"
        "from lakeshift.lake.writer import with_metadata;"
        "import lakeshift.engines.postgres, lakeshift.steps.upload;"
        "with_metadata(pa.record_batch([pa.nulls(1)], names=['x']), datetime.now(UTC), 'b');"
        "print(sorted(m for m in ('pandas', 'polars', 'pyarrow.dataset') if m in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_only_repeating_kinds_are_dictionary_encoded_and_values_round_trip(tmp_path: Any) -> None:
    from decimal import Decimal

    import pyarrow.parquet as pq

    from lakeshift.lake.storage import LakeStorage
    from lakeshift.lake.writer import SliceWriter

    rows = 50_000
    batch = pa.record_batch(
        {
            "id": pa.array(range(rows), pa.int64()),
            "amount": pa.array(
                [Decimal(i % 1000) / 100 for i in range(rows)], pa.decimal128(12, 2)
            ),
            "at": pa.array(range(rows), pa.timestamp("us")),
            "label": pa.array([f"label-{i % 7}" for i in range(rows)]),
            "flag": pa.array([i % 2 == 0 for i in range(rows)]),
        }
    )
    batch = with_metadata(batch, MOMENTS[0], "b")
    storage = LakeStorage.local(tmp_path, "db")
    writer = SliceWriter(storage, f"{tmp_path}/t", "b-all", batch.schema)
    writer.write(batch)
    writer.close()
    [path] = writer.files
    metadata = pq.ParquetFile(path).metadata
    group = metadata.row_group(0)
    dictionary = {
        group.column(i).path_in_schema: group.column(i).has_dictionary_page
        for i in range(group.num_columns)
    }
    assert dictionary == {
        "id": False,
        "amount": False,
        "at": False,
        "label": True,
        "flag": False,
        "_upload_timestamp": True,
        "_upload_date": True,
        "_upload_batch_id": True,
    }
    assert pq.read_table(path) == pa.Table.from_batches([batch])


def test_an_aborted_slice_leaves_no_file_finished_or_open(tmp_path: Any) -> None:
    """A failed slice deletes its files: a file left open would be finished when collected
    (pyarrow closes it, and an S3 upload completes), holding rows no manifest records."""
    import gc

    from lakeshift.lake.storage import LakeStorage
    from lakeshift.lake.writer import SliceWriter

    batch = with_metadata(pa.record_batch({"id": pa.array(range(1000))}), MOMENTS[0], "b")
    storage = LakeStorage.local(tmp_path, "db")
    writer = SliceWriter(storage, f"{tmp_path}/t", "b-00001", batch.schema, target_bytes=1)
    writer.write(batch)  # past the target size: this file is finished
    writer.target_bytes = 1 << 30
    writer.write(batch)  # and this one is left open
    assert len(writer.files) == 2 and writer._writer is not None
    writer.abort()
    del writer
    gc.collect()
    assert not [p for p in (tmp_path / "t").rglob("*") if p.is_file()]


def test_a_source_left_mid_way_is_closed_on_its_own_thread_before_the_error_is_raised() -> None:
    """Closed later by the garbage collector, a SQLite source's generator rolled back on a
    connection closed by then, and the error was printed at exit."""
    import threading

    from lakeshift.lake.writer import write_in_background

    closed: list[str] = []

    def batches() -> Any:
        try:
            for start in range(0, 100, 10):
                yield pa.record_batch({"x": pa.array(range(start, start + 10))})
        finally:
            closed.append(threading.current_thread().name)

    def write(batch: pa.RecordBatch) -> None:
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_in_background(batches(), write)
    assert closed == [threading.current_thread().name]


def test_a_source_that_fails_to_close_never_hides_the_error_that_stopped_it() -> None:
    from lakeshift.lake.writer import write_in_background

    def batches() -> Any:
        try:
            for start in range(100):  # still reading when the writer fails
                yield pa.record_batch({"x": pa.array([start])})
        finally:
            raise RuntimeError("rollback failed")

    def write(batch: pa.RecordBatch) -> None:
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_in_background(batches(), write)
