"""The upload metadata columns, built from raw buffers instead of Python objects."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

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
