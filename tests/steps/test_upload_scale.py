"""Upload at scale: killed at random points and rerun, every row lands exactly once; workers agree.

The kill test runs `lakeshift upload` in a subprocess and SIGKILLs it at random moments, then
reruns it to completion, and checks the lake twice: by the verification (align) and by an
independent count of the rows in every Parquet file on disk.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from lakeshift.artifacts import ANALYSIS_PICKLE
from lakeshift.engines.base import Column
from lakeshift.engines.duckdb import DuckDBEngine
from lakeshift.errors import TerminalError
from lakeshift.lake.catalog import LocalCatalog
from lakeshift.lake.storage import LakeStorage
from lakeshift.project import load_project
from lakeshift.steps.align import align
from lakeshift.steps.analyze import analyze
from lakeshift.steps.budget import BatchBudget
from lakeshift.steps.compare import compare
from lakeshift.steps.upload import upload
from lakeshift.types import Kind, LogicalType

ROWS = 120_000


def _source(path: Path, rows: int = ROWS) -> str:
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE events (event_id INTEGER PRIMARY KEY, at TIMESTAMP NOT NULL, amount NUMERIC(12,2), payload TEXT)"
    )
    rng = random.Random(5)
    connection.executemany(
        "INSERT INTO events VALUES (?,?,?,?)",
        (
            (
                i,
                f"20{20 + i % 5}-{1 + i % 12:02d}-{1 + i % 28:02d} 08:00:00.{i % 999_999:06d}",
                round(rng.uniform(-100, 100), 2),
                "x" * (i % 50),
            )
            for i in range(1, rows + 1)
        ),
    )
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


EVENTS = {"source_table": "main.events", "date_column": "at", "key_columns": "event_id"}


def _lake_rows(lake: Path) -> tuple[int, int]:
    """(rows, distinct keys) over every Parquet file on disk, read independently of lakeshift."""
    rows, keys = 0, set()
    for path in lake.rglob("*.parquet"):
        table = pq.read_table(path, columns=["event_id"])
        rows += table.num_rows
        keys.update(table.column("event_id").to_pylist())
    return rows, len(keys)


def _manifest_files(lake: Path) -> set[str]:
    manifest = json.loads(next((lake / "_lakeshift" / "manifest").rglob("events.json")).read_text())
    return {f for record in manifest["slices"].values() for f in record["files"]}


def _finished_slices(lake: Path) -> int:
    paths = list((lake / "_lakeshift" / "manifest").rglob("events.json"))
    return len(json.loads(paths[0].read_text())["slices"]) if paths else 0


def _upload_command(meta: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "lakeshift",
        "upload",
        "--config",
        str(meta.parent / "migration_config.cfg"),
        "--analysis-output",
        str(meta.parent / "output" / ANALYSIS_PICKLE),
    ]


def test_killed_uploads_resume_with_every_row_exactly_once(
    tmp_path: Path, make_project: Any
) -> None:
    meta = make_project(_source(tmp_path / "source.db"), [EVENTS], chunk_size=500)
    project = load_project(meta)
    analyze(project)
    lake = meta.parent / "lake"
    rng = random.Random(int(os.environ.get("LAKESHIFT_KILL_SEED", "1")))
    kills = 0
    for _ in range(4):
        before = _finished_slices(lake)
        process = subprocess.Popen(
            _upload_command(meta), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 120
        while (
            process.poll() is None
            and _finished_slices(lake) <= before
            and time.monotonic() < deadline
        ):
            time.sleep(0.005)  # wait until this run has made progress of its own ...
        time.sleep(rng.uniform(0.0, 0.2))  # ... then kill it at a random moment
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
    assert kills >= 3, "the upload finished before it could be killed: make the table larger"
    finished = subprocess.run(_upload_command(meta), capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr

    assert _lake_rows(lake) == (ROWS, ROWS)
    on_disk = {str(p.relative_to(lake)) for p in lake.rglob("*.parquet")}
    assert on_disk == _manifest_files(lake), "no stray or missing files"
    compare(project)
    [events] = align(project)
    assert events.status == "match", events.detail


def test_a_finished_upload_rerun_writes_nothing(tmp_path: Path, make_project: Any) -> None:
    meta = make_project(_source(tmp_path / "source.db", 3000), [EVENTS])
    project = load_project(meta)
    analyze(project)
    upload(project, project.output / ANALYSIS_PICKLE)
    before = {p: p.stat().st_mtime_ns for p in (meta.parent / "lake").rglob("*.parquet")}
    upload(project, project.output / ANALYSIS_PICKLE)
    after = {p: p.stat().st_mtime_ns for p in (meta.parent / "lake").rglob("*.parquet")}
    assert before == after


def test_a_crash_between_manifest_and_catalog_is_repaired(
    tmp_path: Path, make_project: Any
) -> None:
    meta = make_project(_source(tmp_path / "source.db", 3000), [EVENTS])
    project = load_project(meta)
    analyze(project)
    upload(project, project.output / ANALYSIS_PICKLE)
    catalog = next((meta.parent / "lake" / "_lakeshift" / "catalog").rglob("events.json"))
    content = json.loads(catalog.read_text())
    lost = sorted(content["partitions"])[0]
    del content["partitions"][lost]  # as if killed after the manifest recorded the slice
    catalog.write_text(json.dumps(content))
    compare(project)
    assert align(project)[0].status == "mismatch", "the lake misses a partition: this must show"
    upload(project, project.output / ANALYSIS_PICKLE)
    assert lost in json.loads(catalog.read_text())["partitions"]
    compare(project)
    assert align(project)[0].status == "match"


def test_two_workers_write_the_same_lake_as_one(tmp_path: Path, make_project: Any) -> None:
    url = _source(tmp_path / "source.db", 20_000)
    lakes = {}
    for workers in (1, 2):
        meta = make_project(url, [EVENTS], folder=tmp_path / f"w{workers}", chunk_size=700)
        project = load_project(meta)
        analyze(project)
        [outcome] = upload(project, project.output / ANALYSIS_PICKLE, workers=workers)
        assert outcome.status == "uploaded"
        compare(project)
        assert align(project)[0].status == "match"
        rows = {}
        for path in (meta.parent / "lake").rglob("*.parquet"):
            table = pq.read_table(path).drop_columns(
                ["_upload_timestamp", "_upload_date", "_upload_batch_id"]
            )
            rows[path.parent.name] = rows.get(path.parent.name, 0) + table.num_rows
            assert pc.all(pc.is_valid(table.column("event_id"))).as_py()
        lakes[workers] = rows
    assert lakes[1] == lakes[2] and sum(lakes[1].values()) == 20_000


def _columns(*kinds: Kind) -> list[Column]:
    return [Column(f"c{i}", "", LogicalType(kind)) for i, kind in enumerate(kinds)]


def test_batches_shrink_for_wide_rows_and_stay_whole_for_narrow_ones() -> None:
    budget = BatchBudget(max_memory_mb=256, workers=2, chunk_size=50_000)
    narrow = _columns(Kind.INTEGER, Kind.INTEGER)
    assert budget.rows_per_batch("narrow", narrow) == 50_000
    budget.observe("clob", arrow_bytes=1_000_000 * 100, rows=100)  # 1 MB per row
    rows = budget.rows_per_batch("clob", _columns(Kind.STRING))
    assert 1 <= rows < 100
    in_flight_bytes = rows * 1_000_000 * 4 * 3 * 2  # amplification, batches in flight, workers
    assert in_flight_bytes <= 256 * 1024 * 1024 / 2


@pytest.mark.parametrize("workers", [1, 3])
def test_the_budget_is_shared_by_the_workers(workers: int) -> None:
    budget = BatchBudget(max_memory_mb=128, workers=workers, chunk_size=10**9)
    budget.observe("t", arrow_bytes=1000 * 1000, rows=1000)
    single = BatchBudget(max_memory_mb=128, workers=1, chunk_size=10**9)
    single.observe("t", arrow_bytes=1000 * 1000, rows=1000)
    assert budget.rows_per_batch("t", []) * workers <= single.rows_per_batch("t", []) + workers


def _what_readers_see(lake: Path) -> tuple[int, Decimal]:
    """(rows, sum of amount) of `events` as a reader of the catalog sees it."""
    engine = DuckDBEngine(LocalCatalog(LakeStorage.local(lake, "test")))
    try:
        [(rows, total)] = engine.query(
            f"SELECT COUNT(*), SUM(amount) FROM {engine.table_sql('events')}"
        )
        return int(rows), Decimal(total)
    finally:
        engine.close()


def _uploaded(database: Path, make_project: Any, rows: int = ROWS) -> tuple[Any, Path]:
    """A project whose events table (`rows` rows) is analyzed and uploaded; and its lake."""
    meta = make_project(_source(database, rows), [EVENTS], chunk_size=500)
    project = load_project(meta)
    analyze(project)
    upload(project, project.output / ANALYSIS_PICKLE)
    return project, meta.parent / "lake"


def test_a_forced_replacement_is_never_half_visible_even_when_killed(
    tmp_path: Path, make_project: Any
) -> None:
    """--force writes a new generation and swaps the catalog to it whole: killed at random
    moments, readers see the old table or the new one, never a mix; the rerun finishes it and
    leaves no file of the old generation on disk."""
    database = tmp_path / "source.db"
    project, lake = _uploaded(database, make_project)
    old = _what_readers_see(lake)
    force = [*_upload_command(project.meta_path), "--force"]
    # One whole replacement of the table by the same rows, timed warm (the first run of a
    # process is slower: caches, imports): the kills fall inside a run on any machine.
    subprocess.run(force, capture_output=True, check=True, timeout=300)
    started = time.monotonic()
    subprocess.run(force, capture_output=True, check=True, timeout=300)
    one_run = time.monotonic() - started
    assert _what_readers_see(lake) == old
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE events SET amount = round(amount + 1, 2)")
    new = (old[0], old[1] + ROWS)
    rng = random.Random(int(os.environ.get("LAKESHIFT_KILL_SEED", "2")))
    kills = 0
    for _ in range(3):
        process = subprocess.Popen(force, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(one_run * rng.uniform(0.25, 0.75))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        assert _what_readers_see(lake) in (old, new)
    assert kills >= 2, f"the replacement finished before it could be killed ({one_run:.1f} s a run)"
    finished = subprocess.run(force, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert _what_readers_see(lake) == new
    assert _lake_rows(lake) == (ROWS, ROWS), "no file of an earlier generation is left"
    [manifest] = list((lake / "_lakeshift" / "manifest").rglob("*.json"))
    files = {f for r in json.loads(manifest.read_text())["slices"].values() for f in r["files"]}
    assert {str(p.relative_to(lake)) for p in lake.rglob("*.parquet")} == files
    [events] = align(project)
    assert events.status == "match", events.detail


def test_a_replacement_that_fails_leaves_the_old_table_whole(
    tmp_path: Path, make_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lakeshift.steps import upload as upload_module

    database = tmp_path / "source.db"
    project, lake = _uploaded(database, make_project, rows=20_000)
    old = _what_readers_see(lake)
    with sqlite3.connect(database) as connection:
        connection.execute("DELETE FROM events WHERE event_id % 2 = 0")
    written = upload_module.write_here
    calls: list[int] = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise TerminalError("the source went away")
        record = written(*args, **kwargs)
        assert _what_readers_see(lake) == old  # slices written so far are not visible
        return record

    monkeypatch.setattr(upload_module, "write_here", failing)
    [outcome] = upload(project, project.output / ANALYSIS_PICKLE, force=True)
    assert outcome.status == "failed"
    assert _what_readers_see(lake) == old
    monkeypatch.setattr(upload_module, "write_here", written)
    [outcome] = upload(project, project.output / ANALYSIS_PICKLE, force=True)
    assert outcome.status == "uploaded"
    assert _what_readers_see(lake)[0] == 10_000
    assert _lake_rows(lake) == (10_000, 10_000)
