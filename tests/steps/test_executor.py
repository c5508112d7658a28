"""Uploads and lake-side checksums on a Dask cluster (a LocalCluster of two worker processes).

The same upload through the dask and the local executor writes the same lake, byte for byte; a
worker process killed in the middle of a slice loses and duplicates nothing; pass 1 computed per
file on the cluster equals DuckDB's single-machine result exactly; no secret reaches a task key,
a log or a repr.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cloudpickle
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

distributed = pytest.importorskip("distributed")

from lakeshift.artifacts import ANALYSIS_PICKLE  # noqa: E402
from lakeshift.config import ExecutorSection, load_migration_config  # noqa: E402
from lakeshift.engines.base import RowPlan  # noqa: E402
from lakeshift.engines.connect import connect_source, open_catalog, open_lake  # noqa: E402
from lakeshift.engines.duckdb import DuckDBEngine  # noqa: E402
from lakeshift.engines.duckdb_cluster import (  # noqa: E402
    ClusterDuckDBEngine,
    cluster_bucket_checksums,
)
from lakeshift.errors import ConfigError  # noqa: E402
from lakeshift.project import load_project  # noqa: E402
from lakeshift.steps import upload as upload_module  # noqa: E402
from lakeshift.steps.analyze import analyze  # noqa: E402
from lakeshift.steps.executor import WorkerSettings  # noqa: E402
from lakeshift.steps.pairing import pair_table  # noqa: E402
from lakeshift.steps.slice_task import SliceTask, leftovers  # noqa: E402
from lakeshift.steps.upload import upload  # noqa: E402
from lakeshift.verify.diff import Side, bucket_diff  # noqa: E402

pytestmark = pytest.mark.timeout(120)
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests

ROWS = 6_000
EVENTS = {"source_table": "main.events", "date_column": "at", "key_columns": "event_id"}


@pytest.fixture(scope="module")
def cluster() -> Any:
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    ) as local:
        yield local


@pytest.fixture
def dask(cluster: Any) -> ExecutorSection:
    return ExecutorSection(kind="dask", scheduler=cluster.scheduler_address)


def _source(path: Path, rows: int = ROWS) -> str:
    connection = sqlite3.connect(path)
    connection.execute(
        "CREATE TABLE events (event_id INTEGER PRIMARY KEY, at TIMESTAMP NOT NULL, "
        "amount NUMERIC(12,2), note TEXT)"
    )
    connection.executemany(
        "INSERT INTO events VALUES (?,?,?,?)",
        (
            (
                i,
                f"2024-{1 + i % 6:02d}-{1 + i % 28:02d} 08:00:00.{i:06d}",
                i % 1000 / 100,
                "é" * (i % 7),
            )
            for i in range(1, rows + 1)
        ),
    )
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


def _lake_keys(lake: Path) -> list[int]:
    """Every event_id in every Parquet file on disk, read independently of lakeshift."""
    keys: list[int] = []
    for path in sorted(lake.rglob("*.parquet")):
        keys += pq.read_table(path, columns=["event_id"]).column("event_id").to_pylist()
    return keys


def _manifest(lake: Path) -> dict[str, Any]:
    return json.loads(next((lake / "_lakeshift" / "manifest").rglob("events.json")).read_text())


def _fixed_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both runs get one batch id and upload time, so their files can be equal byte for byte."""
    moment = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    monkeypatch.setattr(upload_module, "now_utc", lambda: moment)
    monkeypatch.setattr(upload_module.uuid, "uuid4", lambda: uuid.UUID(int=9))


def test_dask_uploads_the_same_lake_as_local_threads(
    tmp_path: Path, make_project: Any, dask: ExecutorSection, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _source(tmp_path / "source.db")
    _fixed_batch(monkeypatch)
    lakes = {}
    for kind, executor in (("local", ExecutorSection()), ("dask", dask)):
        meta = make_project(url, [EVENTS], folder=tmp_path / kind, chunk_size=400)
        project = load_project(meta)
        analyze(project)
        [outcome] = upload(project, project.output / ANALYSIS_PICKLE, workers=2, executor=executor)
        assert outcome.status == "uploaded", outcome.detail
        lakes[kind] = meta.parent / "lake"
        metadata = json.loads(
            next((meta.parent / "output").glob("upload_metadata_*.json")).read_text()
        )
        assert metadata["executor"]["kind"] == kind
    manifests = {kind: _manifest(lake) for kind, lake in lakes.items()}
    for manifest in manifests.values():  # the only field allowed to differ: durations
        for record in manifest["slices"].values():
            record["seconds"] = 0
    assert manifests["local"] == manifests["dask"]
    assert len(manifests["dask"]["slices"]) == 6
    files = {
        kind: sorted(p.relative_to(lake) for p in lake.rglob("*.parquet"))
        for kind, lake in lakes.items()
    }
    assert files["local"] == files["dask"] and len(files["dask"]) >= 6
    for relative in files["dask"]:  # same names, same bytes
        assert (lakes["local"] / relative).read_bytes() == (lakes["dask"] / relative).read_bytes()
    assert sorted(_lake_keys(lakes["dask"])) == list(range(1, ROWS + 1))


def _upload_to_lake(tmp_path: Path, make_project: Any, **migration: Any) -> Any:
    meta = make_project(_source(tmp_path / "source.db"), [EVENTS], chunk_size=500, **migration)
    project = load_project(meta)
    analyze(project)
    [outcome] = upload(project, project.output / ANALYSIS_PICKLE)
    assert outcome.status == "uploaded"
    return project


def _sides(project: Any) -> tuple[Side, Side]:
    """(source, lake) sides of pass 1 over the whole events table, 16 buckets per period."""
    storage = open_lake(project.migration)
    source = connect_source(project.source.url, project.migration)
    lake = DuckDBEngine(open_catalog(storage, project.migration))
    pair = pair_table(project, project.tables[0], source, lake, {}, datetime.now(UTC), "b")
    types = tuple(p.logical for p in pair.columns)
    return (
        Side(
            source,
            pair.source_scope,
            RowPlan(tuple(p.source for p in pair.columns), types, (0,), 16),
        ),
        Side(lake, pair.lake_scope, RowPlan(tuple(p.lake for p in pair.columns), types, (0,), 16)),
    )


def test_lake_checksums_on_the_cluster_equal_duckdb_on_one_machine(
    tmp_path: Path, make_project: Any, cluster: Any
) -> None:
    project = _upload_to_lake(tmp_path, make_project)
    source, side = _sides(project)
    lake, scope, plan = side.engine, side.scope, side.plan
    assert isinstance(lake, DuckDBEngine)
    entry = lake.catalog.get("events")
    with distributed.Client(cluster) as client:
        single = {(p, b): sums for p, b, sums in lake.bucket_checksums(scope, plan)}
        spread = cluster_bucket_checksums(client, project.migration, entry, scope, plan)
        assert spread == single
        assert sum(g.count for g in spread.values()) == ROWS and len(spread) > 6

        # A real difference shows on both, identically: one amount changed in one file.
        path = sorted((tmp_path / "project" / "lake").rglob("*.parquet"))[2]
        table = pq.read_table(path)
        amounts = table.column("amount").to_pylist()
        amounts[0] += 1
        index = table.schema.get_field_index("amount")
        changed = table.set_column(
            index, table.field(index), pa.array(amounts, table.field(index).type)
        )
        pq.write_table(changed, path)
        lake.refresh()
        after = cluster_bucket_checksums(client, project.migration, entry, scope, plan)
        assert after == {(p, b): sums for p, b, sums in lake.bucket_checksums(scope, plan)}
        assert [g for g in after if after[g] != spread[g]] != []
        assert sum(g.count for g in after.values()) == ROWS

        # As the lake side of the diff, the cluster engine names the changed row.
        clustered = ClusterDuckDBEngine(lake.catalog, client, project.migration)
        order = [b for _, b, _ in clustered.bucket_checksums(scope, plan)]
        assert order == sorted(order) and len(order) == len(after)
        result = bucket_diff(source, Side(clustered, scope, plan))
        assert (result.changed, result.missing, result.extra) == (1, 0, 0)
        assert result.changed_by_column == {"amount": 1}
    source.engine.close()


def test_a_slice_in_a_shared_folder_deletes_only_its_own_leftovers() -> None:
    folder = "/lake/db/events"
    files = [
        f"{folder}/20240101T000000Z-aaaa0000-00001-00000.parquet",  # slice 1, an earlier batch
        f"{folder}/20240101T000000Z-aaaa0000-00002-00000.parquet",  # slice 2, finished
        f"{folder}/20240202T000000Z-bbbb0000-00001-00003.parquet",  # slice 1, this batch
    ]
    task = SliceTask(
        "events",
        "s1",
        1,
        "",
        None,
        (),
        (),
        pa.schema([]),
        folder,
        False,
        "b",
        datetime.now(UTC),
        "zstd",
        1,  # type: ignore[arg-type]
    )
    assert leftovers(task, files) == [files[0], files[2]]
    owner = SliceTask(**{**task.__dict__, "owns_folder": True})
    assert leftovers(owner, files) == files


def test_the_executor_section_is_validated_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "migration_config.cfg"
    path.write_text(
        json.dumps({"lake": "lake", "executor": {"kind": "dask", "scheduler": "tcp://h:8786"}})
    )
    assert load_migration_config(path).executor == ExecutorSection(
        kind="dask", scheduler="tcp://h:8786"
    )
    path.write_text(json.dumps({"lake": "lake", "executor": {"kind": "spark"}}))
    with pytest.raises(ConfigError, match=r"migration_config.cfg: executor.kind"):
        load_migration_config(path)
    path.write_text(
        json.dumps({"lake": "lake", "executor": {"kind": "dask", "scheduler": "h:8786"}})
    )
    with pytest.raises(ConfigError, match=r"migration_config.cfg: executor.scheduler"):
        load_migration_config(path)


def test_worker_settings_never_show_the_password(make_project: Any) -> None:
    settings = WorkerSettings(
        "postgresql://app:s3cret-pw@db:5432/x",
        load_project(make_project("sqlite:///x.db", [EVENTS])).migration,
    )
    assert "s3cret-pw" not in repr(settings) and "s3cret-pw" not in str(settings)
    assert "s3cret-pw" in cloudpickle.loads(cloudpickle.dumps(settings)).source_url


@pytest.mark.postgres
def test_secrets_stay_out_of_task_keys_and_cluster_logs(
    tmp_path: Path, make_project: Any, postgres_url: str, dask: ExecutorSection, cluster: Any
) -> None:
    import psycopg

    table = f"dask9_events_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(
            f"CREATE TABLE public.{table} AS SELECT g AS id, DATE '2024-01-01' + (g % 3) * 31 AS at "
            "FROM generate_series(1, 900) g"
        )
        admin.execute(f"ALTER TABLE public.{table} ADD PRIMARY KEY (id)")
    try:
        secret = "Pw-" + uuid.uuid4().hex[:10]  # the service trusts local users: any password works
        url = postgres_url.replace("postgres@", f"postgres:{secret}@", 1)
        assert secret in url
        project = load_project(
            make_project(url, [{"source_table": f"public.{table}", "date_column": "at"}])
        )
        analyze(project)
        with distributed.Client(cluster) as client:
            with distributed.get_task_stream(client) as stream:
                [outcome] = upload(project, project.output / ANALYSIS_PICKLE, executor=dask)
            assert outcome.status == "uploaded", outcome.detail
            keys = [str(t["key"]) for t in stream.data]
            logs = json.dumps([client.get_scheduler_logs(), client.get_worker_logs()], default=str)
            tasks = client.run_on_scheduler(
                lambda dask_scheduler: [repr(ts.run_spec) for ts in dask_scheduler.tasks.values()]
            )
        assert any(k.startswith(f"upload-{table}-_period=2024-") for k in keys), keys
        assert not [k for k in keys if secret in k]
        assert secret not in logs and secret not in json.dumps(tasks)
        assert (
            sum(
                pq.read_metadata(p).num_rows
                for p in (project.meta_path.parent / "lake").rglob("*.parquet")
            )
            == 900
        )
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP TABLE IF EXISTS public.{table}")


class FirstWrite(distributed.WorkerPlugin):
    """In each worker: the first batch any worker writes after the marker is armed calls
    `first` after it is written; every other batch calls `other`."""

    def __init__(self, marker: str):
        self.marker = marker

    def first(self) -> None:
        pass

    def other(self) -> None:
        pass

    def setup(self, worker: Any) -> None:
        from lakeshift.lake import writer

        original, marker, plugin = writer.SliceWriter.write, self.marker, self

        def write(self: Any, batch: Any) -> None:
            original(self, batch)
            try:
                descriptor = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                plugin.other()
                return
            os.close(descriptor)
            plugin.first()

        writer.SliceWriter.write = write  # type: ignore[method-assign]


@contextmanager
def _plugged(cluster: Any, plugin: FirstWrite) -> Iterator[Any]:
    """A client of the cluster whose workers run `plugin`; after, fresh worker processes."""
    name = type(plugin).__name__
    with distributed.Client(cluster) as client:
        client.register_plugin(plugin, name=name)
        try:
            yield client
        finally:
            client.unregister_worker_plugin(name)
            client.restart()  # fresh worker processes, without the patched writer


class KillOnce(FirstWrite):
    """The first batch kills its worker's process, leaving a half-written Parquet file."""

    def first(self) -> None:
        os._exit(1)  # as if the machine went away: no cleanup, no goodbye to the scheduler


def test_a_worker_killed_mid_slice_loses_and_duplicates_nothing(
    tmp_path: Path, make_project: Any, dask: ExecutorSection, cluster: Any
) -> None:
    meta = make_project(_source(tmp_path / "source.db"), [EVENTS], chunk_size=200)
    project = load_project(meta)
    analyze(project)
    marker = tmp_path / "killed"
    with _plugged(cluster, KillOnce(str(marker))):
        [outcome] = upload(project, project.output / ANALYSIS_PICKLE, executor=dask)
    assert marker.exists(), "no worker was killed: the test proved nothing"
    assert outcome.status == "uploaded", outcome.detail
    lake = meta.parent / "lake"
    keys = _lake_keys(lake)
    assert len(keys) == ROWS and sorted(keys) == list(range(1, ROWS + 1)), "every row exactly once"
    on_disk = {str(p.relative_to(lake)) for p in lake.rglob("*.parquet")}
    recorded = {f for r in _manifest(lake)["slices"].values() for f in r["files"]}
    assert on_disk == recorded, "the killed slice's half-written file was replaced"


class FailFirstSlowOthers(FirstWrite):
    """The first batch fails its slice; every other batch takes a second, so the other worker
    is mid-slice when the upload gives up."""

    def first(self) -> None:
        raise RuntimeError("disk full")

    def other(self) -> None:
        time.sleep(1)


def test_slices_still_running_when_the_upload_fails_stop_and_leave_no_files(
    tmp_path: Path, make_project: Any, dask: ExecutorSection, cluster: Any
) -> None:
    """Dask cannot stop a running task: without being told, the other worker's slice would
    finish minutes later and leave files no manifest records, in the lake a rerun writes."""
    meta = make_project(_source(tmp_path / "source.db"), [EVENTS], chunk_size=100)
    project = load_project(meta)
    analyze(project)
    marker = tmp_path / "failed"
    with _plugged(cluster, FailFirstSlowOthers(str(marker))) as client:
        [outcome] = upload(project, project.output / ANALYSIS_PICKLE, executor=dask)
        assert outcome.status == "failed" and "disk full" in outcome.detail
        for _ in range(300):  # until no slice runs (a stopped one within a second or two)
            if not any(client.processing().values()):
                break
            time.sleep(0.1)
        assert not any(client.processing().values()), "a slice kept running"
    lake = meta.parent / "lake"
    on_disk = {str(p.relative_to(lake)) for p in lake.rglob("*.parquet")}
    manifest = next((lake / "_lakeshift" / "manifest").rglob("events.json"), None)
    recorded = (
        {f for r in json.loads(manifest.read_text())["slices"].values() for f in r["files"]}
        if manifest
        else set()
    )
    assert on_disk == recorded, "files of slices that never finished are in the lake"


def test_dask_workers_read_postgres_at_the_clients_snapshot(
    tmp_path: Path,
    make_project: Any,
    dask: ExecutorSection,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows inserted and updated by another session after the client took the table's snapshot
    (and before any worker read a slice) do not reach the lake."""
    import psycopg

    schema = f"lst_dask_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            admin.execute(
                f"CREATE TABLE {schema}.events (event_id int PRIMARY KEY, at timestamp NOT NULL,"
                " note text)"
            )
            admin.execute(
                f"INSERT INTO {schema}.events SELECT i, timestamp '2024-01-01' + i * interval "
                "'7 hours', 'before' FROM generate_series(1, 3000) AS i"
            )
            table = {
                "source_table": f"{schema}.events",
                "date_column": "at",
                "key_columns": "event_id",
            }
            project = load_project(make_project(postgres_url, [table], chunk_size=200))
            analyze(project)
            planned = upload_module.slice_task

            def meanwhile(*args: Any, **kwargs: Any) -> SliceTask:
                task = planned(*args, **kwargs)
                if task.index == 0:  # the client holds the snapshot; no slice is read yet
                    admin.execute(
                        f"INSERT INTO {schema}.events SELECT i, timestamp '2024-01-01' + i * "
                        "interval '7 hours', 'after' FROM generate_series(3001, 3500) AS i"
                    )
                    admin.execute(f"UPDATE {schema}.events SET note = 'changed'")
                return task

            monkeypatch.setattr(upload_module, "slice_task", meanwhile)
            [outcome] = upload(project, project.output / ANALYSIS_PICKLE, executor=dask)
            assert outcome.status == "uploaded", outcome.detail
            lake = project.migration.lake
            assert lake is not None
            assert sorted(_lake_keys(lake)) == list(range(1, 3001))
            notes = {
                note
                for path in lake.rglob("*.parquet")
                for note in pq.read_table(path, columns=["note"]).column("note").to_pylist()
            }
            assert notes == {"before"}
            assert len(list(lake.rglob("*.parquet"))) > 2  # read by several tasks
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def test_align_with_the_dask_executor_checksums_the_lake_on_the_cluster(
    tmp_path: Path, make_project: Any, cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The config's executor section also puts align's lake-side pass 1 on the cluster: the same
    verdicts as on one machine, a changed value still named."""
    from lakeshift.engines import duckdb_cluster
    from lakeshift.steps.align import align

    project = _upload_to_lake(
        tmp_path, make_project, executor={"kind": "dask", "scheduler": cluster.scheduler_address}
    )
    spread: list[int] = []
    checksums = duckdb_cluster.cluster_bucket_checksums

    def counted(*args: Any, **kwargs: Any) -> Any:
        spread.append(1)
        return checksums(*args, **kwargs)

    monkeypatch.setattr(duckdb_cluster, "cluster_bucket_checksums", counted)
    [clean] = align(project)
    assert clean.status == "match", clean.detail
    assert spread, "the lake side of pass 1 ran on the cluster"

    path = sorted((tmp_path / "project" / "lake").rglob("*.parquet"))[1]
    table = pq.read_table(path)
    notes = table.column("note").to_pylist()
    notes[3] = (notes[3] or "") + " "
    index = table.schema.get_field_index("note")
    pq.write_table(
        table.set_column(index, table.field(index), pa.array(notes, table.field(index).type)),
        path,
    )
    [changed] = align(project)
    assert changed.status == "mismatch"
    result = json.loads((project.output / "data_alignment_results.json").read_text())
    [entry] = result["tables"]
    assert entry["values"]["changed_by_column"] == {"note": 1} or [
        c["column"] for c in entry["columns_excluded"]
    ] == ["note"]


def test_a_slice_stops_once_its_runs_marker_is_in_the_lake(tmp_path: Path) -> None:
    """A worker looks for its run's stop marker every half second; a lake out of reach stops
    nothing by itself (the slice's own reads and writes then fail)."""
    from lakeshift.lake.storage import LakeStorage
    from lakeshift.steps import executor

    storage = LakeStorage.local(tmp_path, "db")
    check = executor._stop_check(storage, "run-1")
    assert check is not None
    check(100, 1.0, 1000)  # no marker: writes on
    storage.write_json(executor.stop_marker(storage, "run-2"), {})  # another run's
    executor.STOP_CHECK_SECONDS, seconds = 0.0, executor.STOP_CHECK_SECONDS
    try:
        check(100, 1.0, 1000)
        storage.write_json(executor.stop_marker(storage, "run-1"), {})
        with pytest.raises(executor.SliceStopped):
            check(100, 1.0, 1000)

        class Unreachable:
            def get_file_info(self, path: str) -> Any:
                raise OSError("the lake is out of reach")

        lost = executor._stop_check(replace(storage, fs=Unreachable()), "run-1")
        assert lost is not None
        lost(100, 1.0, 1000)
    finally:
        executor.STOP_CHECK_SECONDS = seconds
    assert executor._stop_check(storage, None) is None  # a local run: nothing to look for


def test_a_slice_looks_for_the_stop_marker_once_more_before_closing_its_files(
    tmp_path: Path,
) -> None:
    """Between two looks half a second apart a slice may write its last batch: the call with
    no rows that `write_slice` makes before closing always looks."""
    from lakeshift.lake.storage import LakeStorage
    from lakeshift.steps import executor

    storage = LakeStorage.local(tmp_path, "db")
    check = executor._stop_check(storage, "run-1")
    assert check is not None
    check(100, 1.0, 1000)  # looks: no marker
    storage.write_json(executor.stop_marker(storage, "run-1"), {})
    check(100, 1.0, 1000)  # within half a second of the last look: does not look
    with pytest.raises(executor.SliceStopped):
        check(0, 1.0, 0)


def _waits_to_be_dropped(seconds: float) -> str:
    """A task that looks, as a slice does, whether the scheduler still wants it."""
    from lakeshift.steps import executor

    dropped = executor._task_dropped()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if dropped():
            return "dropped"
        time.sleep(0.05)
    return "ran on"


def test_a_slice_whose_client_died_stops(cluster: Any, tmp_path: Path) -> None:
    """A client killed mid-run writes no stop marker: its running slice went on writing after
    the rerun had deleted its leftovers, and the lake held rows twice. The scheduler drops the
    task of a client gone; the slice now sees that at its next batch."""
    from lakeshift.steps import executor

    seen = tmp_path / "seen"

    def task() -> None:
        seen.write_text(_waits_to_be_dropped(30))

    with distributed.Client(cluster.scheduler_address) as client:
        future = client.submit(task, pure=False)
        for _ in range(100):  # until it runs
            if any(client.processing().values()):
                break
            time.sleep(0.05)
        assert any(client.processing().values())
    del future  # the client is gone: so is the scheduler's reason to run the task
    for _ in range(200):
        if seen.exists():
            break
        time.sleep(0.1)
    assert seen.read_text() == "dropped"
    assert executor._task_dropped()() is False  # outside a task: never dropped


def test_local_slices_running_when_one_fails_or_the_run_is_interrupted_stop() -> None:
    """With --workers 2 a Ctrl-C waited for every running slice to finish (an hour's)."""
    from lakeshift.steps.executor import LocalExecutor, SliceStopped

    for raised in (RuntimeError("disk full"), KeyboardInterrupt()):
        seen: list[str] = []

        def write_here(
            task: Any, stopped: Any, raised: BaseException = raised, seen: list[str] = seen
        ) -> Any:
            if task == "fails":
                time.sleep(0.2)
                raise raised
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # a long slice, batch after batch
                if stopped():
                    seen.append("stopped")
                    raise SliceStopped("the upload stopped before this slice finished")
                time.sleep(0.02)
            seen.append("finished")
            return None

        started = time.monotonic()
        with pytest.raises(type(raised)):
            LocalExecutor(workers=2).run(["long", "fails", "never"], write_here, lambda t, r: None)  # type: ignore[list-item]
        assert seen == ["stopped"]  # the long slice stopped; the waiting one never started
        assert time.monotonic() - started < 5


def test_the_error_of_the_slice_that_failed_is_the_one_raised() -> None:
    """The slices stopped because of it finished first, and their "the upload stopped before
    this slice started" took the place of the real error, which nothing else recorded."""
    from lakeshift.steps.executor import LocalExecutor, SliceStopped

    def write_here(task: Any, stopped: Any) -> Any:
        if task == 0:
            raise RuntimeError("could not connect: too many connections")
        for _ in range(10):
            if stopped():
                raise SliceStopped("the upload stopped before this slice finished")
            time.sleep(0.01)
        return None

    for _ in range(10):
        with pytest.raises(RuntimeError, match="too many connections"):
            LocalExecutor(workers=4).run(list(range(36)), write_here, lambda t, r: None)  # type: ignore[arg-type]
