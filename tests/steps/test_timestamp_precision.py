"""align against a lake engine that sees milliseconds (Athena), run on DuckDB with its files
rewritten as Athena reads them: sub-millisecond source data matches, a millisecond still differs.
"""

from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeshift.artifacts import ALIGNMENT_JSON
from lakeshift.engines import duckdb as duckdb_module
from lakeshift.project import load_project
from lakeshift.steps.align import align
from lakeshift.steps.analyze import analyze
from lakeshift.steps.upload import upload
from lakeshift.verify.canonical import round_timestamp

ROWS = 300


@pytest.fixture
def uploaded(tmp_path: Path, make_project: Any) -> Path:
    database = tmp_path / "events.db"
    rng = random.Random(5)
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, seen TIMESTAMP)")
        start = datetime(2024, 1, 31, 23, 0)
        connection.executemany(
            "INSERT INTO events VALUES (?, ?)",
            [
                (
                    i,
                    (start + timedelta(microseconds=rng.randrange(2 * 3600 * 10**6))).isoformat(
                        sep=" ", timespec="microseconds"
                    ),
                )
                for i in range(1, ROWS + 1)
            ],
        )
        # Exactly half a millisecond before midnight: Athena sees it in the next day and month.
        connection.execute("UPDATE events SET seen = '2024-01-31 23:59:59.999500' WHERE id = 1")
    meta = make_project(
        f"sqlite:///{database}",
        [{"source_table": "main.events", "date_column": "seen", "period": "day"}],
    )
    project = load_project(meta)
    analyze(project)
    upload(project, project.output / "migration_analysis.pkl")
    return meta


def _as_athena_reads_it(meta: Path, shift: dict[int, timedelta] | None = None) -> None:
    """Round the lake's `seen` to milliseconds (Trino's reader), optionally moving some rows."""
    for path in (meta.parent / "lake").rglob("*.parquet"):
        table = pq.read_table(path)
        ids = table.column("id").to_pylist()
        seen = [
            round_timestamp(value, "millisecond") + (shift or {}).get(key, timedelta())
            for key, value in zip(ids, table.column("seen").to_pylist(), strict=True)
        ]
        index = table.schema.get_field_index("seen")
        column = pa.array(seen, type=table.schema.field(index).type)
        pq.write_table(table.set_column(index, table.schema.field(index), column), path)


@pytest.fixture
def lake_sees_milliseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    capabilities = dataclasses.replace(
        duckdb_module.CAPABILITIES, timestamp_precision="millisecond"
    )
    monkeypatch.setattr(duckdb_module.DuckDBEngine, "capabilities", capabilities)


def _result(meta: Path) -> dict[str, Any]:
    project = load_project(meta)
    align(project)
    content = json.loads((project.output / ALIGNMENT_JSON).read_text())
    [table] = [t for t in content["tables"] if t["source_table"] == "main.events"]
    return dict(table)


def test_sub_millisecond_data_matches_at_milliseconds(
    uploaded: Path, lake_sees_milliseconds: None
) -> None:
    _as_athena_reads_it(uploaded)
    result = _result(uploaded)
    assert result["status"] == "match", result["mismatches"]
    assert result["precision"]["timestamp"] == "millisecond"
    assert result["rows_compared"] == ROWS


def test_compared_at_microseconds_the_rounded_lake_would_be_a_false_alarm(
    uploaded: Path,
) -> None:
    """Why the common precision exists: the same lake, compared at microseconds, differs."""
    _as_athena_reads_it(uploaded)
    result = _result(uploaded)
    assert result["status"] == "mismatch"
    assert result["precision"]["timestamp"] == "microsecond"


def test_a_millisecond_difference_is_still_found_and_named(
    uploaded: Path, lake_sees_milliseconds: None
) -> None:
    _as_athena_reads_it(uploaded, shift={42: timedelta(milliseconds=1)})
    result = _result(uploaded)
    assert result["status"] == "mismatch"
    assert result["precision"]["timestamp"] == "millisecond"
    assert result["values"]["changed_by_column"] == {"seen": 1}
    [sample] = result["values"]["samples"]
    assert sample["key"] == {"id": "42"}
    [column] = sample["columns"]
    source, target = (
        datetime.fromisoformat(column["source"]),
        datetime.fromisoformat(column["target"]),
    )
    assert target - source == timedelta(milliseconds=1)
    assert source.microsecond % 1000 == 0  # shown at the precision it was compared at
