"""Step 2, upload: extract source tables slice by slice into Parquet in the lake.

Each slice's files are written, then recorded in the manifest, then its partition registered in
the catalog; a rerun skips finished slices and rewrites unfinished ones (`--force` replaces all).
Writes `upload_metadata_{timestamp}.json` into the output folder.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
from loguru import logger

from lakeshift.artifacts import new_upload_metadata_path, now_utc, read_analysis, write_json
from lakeshift.config import ExecutorSection
from lakeshift.engines.base import Scope, SourceEngine
from lakeshift.engines.connect import connect_source, open_catalog, open_lake
from lakeshift.errors import LakeshiftError, TerminalError
from lakeshift.inventory import TableSpec
from lakeshift.lake.catalog import Catalog, CatalogTable, SchemaChangedError, schema_changes
from lakeshift.lake.generation import (
    begin_replacement,
    current_generation,
    finish_replacement,
    holds_nothing,
    reconcile,
)
from lakeshift.lake.manifest import Manifest, SliceRecord
from lakeshift.lake.storage import LakeStorage
from lakeshift.lake.writer import METADATA_FIELDS
from lakeshift.logs import TABLE, first_few, progress_logger
from lakeshift.mapping import TableColumns, map_columns
from lakeshift.project import Project
from lakeshift.redaction import display_url, redact
from lakeshift.steps.budget import BatchBudget
from lakeshift.steps.executor import (
    LocalExecutor,
    SliceExecutor,
    SliceStopped,
    describe,
    open_executor,
)
from lakeshift.steps.outcome import TableOutcome
from lakeshift.steps.progress import RowProgress
from lakeshift.steps.slice_task import SliceTask, write_slice
from lakeshift.steps.slicing import PartitionStrategy, Slice, partition_keys, plan_slices
from lakeshift.types import LogicalType

UPLOADABLE = frozenset({"match", "mismatch", "not_migrated"})
KEY_SLICE_CHUNKS = 20  # a key-range slice holds about this many chunks
# Snapshots a Dask worker's own session can read at: Oracle's SCN, PostgreSQL's exported snapshot.
SHAREABLE_SNAPSHOTS = frozenset({"flashback", "repeatable_read"})


@dataclass
class UploadContext:
    project: Project
    source: SourceEngine
    storage: LakeStorage
    catalog: Catalog
    strategy: PartitionStrategy
    batch_id: str
    force: bool
    workers: int = 1
    budget: BatchBudget | None = None
    executor: SliceExecutor | None = None  # None: LocalExecutor(workers)
    readers: queue.Queue[SourceEngine] = field(default_factory=queue.Queue)
    bookkeeping: threading.Lock = field(default_factory=threading.Lock)

    def reader(self) -> SourceEngine:
        """A source connection of this worker's own (the main one when working alone)."""
        if self.workers == 1:
            return self.source
        try:
            return self.readers.get_nowait()
        except queue.Empty:
            return connect_source(self.project.source.url, self.project.migration)

    def give_back(self, engine: SourceEngine) -> None:
        if engine is not self.source:
            self.readers.put(engine)

    def close_readers(self) -> None:
        while not self.readers.empty():
            self.readers.get_nowait().close()


def lake_columns(columns: TableColumns) -> list[dict[str, str]]:
    described = [
        {"name": m.target_name, "type": str(m.source.logical), "source_type": m.source.native_type}
        for m in columns.mapped
    ]
    described += [
        {"name": f.name, "type": str(LogicalType.from_arrow(f.type)), "source_type": "lakeshift"}
        for f in METADATA_FIELDS
    ]
    return described


def slice_task(
    context: UploadContext,
    spec: TableSpec,
    columns: TableColumns,
    piece: Slice,
    index: int,
    uploaded_at: datetime,
    folder: str,
    owns_folder: bool = True,
) -> SliceTask:
    """The self-contained work of one slice, written into `folder` (chosen by the client)."""
    migration = context.project.migration
    snapshot = context.source.snapshot_token()
    return SliceTask(
        target_table=spec.target_table,
        slice_id=piece.slice_id,
        index=index,
        partition=piece.partition,
        scope=piece.scope,
        columns=tuple(m.source for m in columns.mapped),
        names=tuple(m.target_name for m in columns.mapped),
        schema=pa.schema(
            [pa.field(m.target_name, m.source.logical.to_arrow()) for m in columns.mapped]
            + METADATA_FIELDS
        ),
        folder=folder,
        owns_folder=owns_folder,
        batch_id=context.batch_id,
        uploaded_at=uploaded_at,
        compression=migration.compression,
        target_bytes=migration.target_file_mb * 1024 * 1024,
        # Workers elsewhere can read at the client's snapshot where another session can name it:
        # Oracle's SCN, PostgreSQL's exported snapshot (held open by the client); see docs/dask.md.
        snapshot=snapshot if context.source.capabilities.snapshot in SHAREABLE_SNAPSHOTS else None,
    )


def write_here(
    context: UploadContext,
    task: SliceTask,
    progress: RowProgress | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> SliceRecord:
    """Write one slice in this process, on a source connection of this worker thread's own;
    it stops at its next batch, deleting what it wrote, once `stopped()` is true."""
    migration = context.project.migration
    budget = context.budget or BatchBudget(migration.max_memory_mb, 1, migration.chunk_size)

    def on_batch(rows: int, rate: float, size: int) -> None:
        if stopped():
            raise SliceStopped("the upload stopped before this slice finished")
        if progress is not None:
            progress.advance(rows, rate, size)

    reader = context.reader()
    try:
        return write_slice(task, context.storage, reader, budget, on_batch)
    finally:
        context.give_back(reader)


def finish_slice(
    context: UploadContext,
    manifest: Manifest,
    task: SliceTask,
    record: SliceRecord,
    register: bool = True,
) -> None:
    """The slice's files are complete: record the slice, then make its partition visible (a
    replacement's partitions become visible all at once, when the table is swapped)."""
    with context.bookkeeping:
        manifest.record(record)
        if register and record.files:  # an empty folder is no partition: readers fail on it
            context.catalog.register_partitions(task.target_table, {task.partition: task.folder})


def plan_of(spec: TableSpec, strategy: PartitionStrategy) -> dict[str, Any]:
    """What decides which rows each slice holds, besides the slice's own id."""
    plan: dict[str, Any] = {"partition_strategy": strategy.value, "where": spec.where}
    if strategy is PartitionStrategy.DATE:
        plan |= {"date_column": spec.date_column, "period": spec.period.value}
    if strategy is PartitionStrategy.KEY:
        plan["key_columns"] = list(spec.key_columns)
    return plan


def _columns_folded(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan with its column names in lower case: the inventory names columns in any case
    (`SIGNUP_TS` is `signup_ts`), so a change of case alone changes no slice."""
    folded = dict(plan)
    if isinstance(folded.get("date_column"), str):
        folded["date_column"] = folded["date_column"].lower()
    if isinstance(folded.get("key_columns"), list):
        folded["key_columns"] = [str(k).lower() for k in folded["key_columns"]]
    return folded


def check_resumable(
    spec: TableSpec, manifest: Manifest, slices: list[Slice], plan: dict[str, Any]
) -> None:
    """Refuse to add to slices written under another plan, or that the plan no longer has.

    Either way the finished slices would be kept as they are: rows twice (a month split into
    days beside the month), or rows of a range that moved with the table's size missing."""
    target = f"{spec.source_table} -> {spec.target_table}"
    written = manifest.plan
    if (
        manifest.slices
        and written is not None
        and _columns_folded(written) != _columns_folded(plan)
    ):
        changes = ", ".join(
            f"{name} {written.get(name)!r} -> {plan.get(name)!r}"
            for name in sorted(set(written) | set(plan))
            if written.get(name) != plan.get(name)
        )
        raise TerminalError(
            f"{target}: the lake's slices were written under another plan ({changes}); "
            "rerun the upload with --force to replace the table"
        )
    stale = sorted(set(manifest.slices) - {piece.slice_id for piece in slices})
    if stale:
        raise TerminalError(
            f"{target}: {len(stale)} slice(s) in the lake are no longer in the plan "
            f"({first_few(stale)}): "
            "their rows left the source, or the key ranges moved as the table grew or shrank; "
            "rerun the upload with --force to replace the table"
        )


def reads_the_planning_snapshot(
    context: UploadContext, executor: SliceExecutor, tasks: list[SliceTask]
) -> bool:
    """Whether every slice reads the snapshot the plan counted its rows in: the main session's
    (Oracle's SCN, PostgreSQL's or MySQL's open transaction), or one workers join. SQLite reads
    each slice in a read transaction of its own, so its counts may be of an older state."""
    if context.source.snapshot_token() is None:
        return False
    if executor.remote:
        return bool(tasks) and tasks[0].snapshot is not None
    return context.workers == 1 or context.source.capabilities.snapshot in SHAREABLE_SNAPSHOTS


def _warn_of_changed_finished_slices(
    spec: TableSpec, slices: list[Slice], finished: list[SliceRecord]
) -> None:
    """A finished slice is kept as written; where the plan now counts other rows for it, the
    source changed since, and only compare and align will show how."""
    planned = {s.slice_id: s.expected_rows for s in slices}
    changed = [
        f"{r.slice_id} (written {r.rows}, now {planned[r.slice_id]})"
        for r in finished
        if planned.get(r.slice_id) is not None and planned[r.slice_id] != r.rows
    ]
    if changed:
        logger.warning(
            "{}: {} finished slice(s) kept as written although the source now holds other rows "
            "for them: {}; compare and align will show the differences, --force re-uploads",
            spec.source_table,
            len(changed),
            first_few(changed),
        )


def check_slice_rows(
    spec: TableSpec, task: SliceTask, record: SliceRecord, planned: int | None, one_snapshot: bool
) -> None:
    """A slice must hold the rows the plan counted for it; in one snapshot, a difference means
    rows fell outside every slice (a date no period can name, say) and the slice is refused."""
    if planned is None or record.rows == planned:
        return
    message = (
        f"{spec.source_table} -> {spec.target_table}: slice {task.slice_id} read "
        f"{record.rows} rows, the plan counted {planned}"
    )
    if one_snapshot:
        raise TerminalError(
            f"{message} in the same snapshot: rows the slice predicates miss (a BC or infinite "
            "date, a key its type compares oddly, say); the slice is not recorded"
        )
    logger.warning("{}: the source changed during the upload; compare will show it", message)


def register_table(context: UploadContext, entry: CatalogTable) -> CatalogTable:
    """The table as the catalog holds it, registered now if it is new.

    One registered with another schema or partitioning is refused (SchemaChangedError), unless
    it holds nothing yet (a first upload that failed before its first slice): it then takes
    this upload's definition, where asking for --force would only replace an empty table."""
    try:
        return context.catalog.create_or_check(entry)
    except SchemaChangedError as changed:
        if not holds_nothing(context.storage, changed.registered):
            raise
        replacement = dataclasses.replace(
            entry, location=changed.registered.location, partitions={}
        )
        context.catalog.replace(replacement)
        logger.info(
            "{}: registered by an upload that finished no slice; its definition is replaced ({})",
            entry.name,
            "; ".join(schema_changes(changed.registered, entry)),
        )
        return replacement


def upload_table(context: UploadContext, spec: TableSpec) -> dict[str, Any]:
    started = time.perf_counter()
    uploaded_at = now_utc()
    source = context.source
    columns = map_columns(
        spec, source.columns(spec.source_table), context.project.mappings[spec.source_table]
    )
    if not spec.key_columns:
        spec = TableSpec(
            **{**spec.__dict__, "key_columns": tuple(source.primary_key(spec.source_table))}
        )
    strategy = context.strategy
    if strategy is PartitionStrategy.DATE and not spec.date_column:
        logger.info(
            "{}: no date_column in the inventory (row {}): uploaded unpartitioned, as one slice",
            spec.source_table,
            spec.row,
        )
        strategy = PartitionStrategy.NONE
    entry = CatalogTable(
        database=context.storage.database,
        name=spec.target_table,
        location=context.storage.table_location(spec.target_table),
        columns=lake_columns(columns),
        partition_keys=partition_keys(strategy),
        properties={
            "source_table": spec.source_table,
            "partition_strategy": strategy.value,
            "period": spec.period.value,
            "date_column": spec.date_column,
        },
    )
    # Checked and planned before the lake is touched: a table that cannot be read, or planned,
    # or named in its catalog, registers nothing (a --force registers only once it is written).
    source.require_supported(spec.source_table, [m.source for m in columns.mapped])
    context.catalog.check_names(entry)
    slices = plan_slices(
        spec,
        strategy,
        source,
        Scope(spec.source_table, where=spec.where),
        [m.source for m in columns.mapped],
        context.project.migration.chunk_size * KEY_SLICE_CHUNKS,
    )
    registered = None
    if context.force:  # a new generation, swapped in whole when every slice is written
        generation = begin_replacement(context.storage, spec.target_table, context.batch_id)
    else:
        registered = register_table(context, entry)
        generation = current_generation(context.storage, spec.target_table, registered.location)
    manifest = generation.manifest
    plan = plan_of(spec, strategy)
    check_resumable(spec, manifest, slices, plan)
    manifest.plan_to(plan)
    if registered is not None:  # finishes a crash between manifest and catalog, or a swap's
        reconcile(context.storage, context.catalog, registered, generation)
    finished = [r for s in slices if (r := manifest.finished(s.slice_id)) is not None]
    _warn_of_changed_finished_slices(spec, slices, finished)
    pending = [(i, s) for i, s in enumerate(slices) if manifest.finished(s.slice_id) is None]
    total = sum(s.expected_rows or 0 for s in slices) or None
    writers = Counter(s.partition for s in slices)  # slices sharing a folder delete only their own
    tasks = [
        slice_task(
            context,
            spec,
            columns,
            piece,
            index,
            uploaded_at,
            generation.folder(piece.partition),
            writers[piece.partition] == 1,
        )
        for index, piece in pending
    ]
    executor = context.executor or LocalExecutor(context.workers)
    if executor.remote and tasks and tasks[0].snapshot is None and source.snapshot_token():
        logger.warning(
            "{}: Dask workers cannot join the {} snapshot; each slice reads the source as it is "
            "when the slice starts",
            spec.source_table,
            source.capabilities.name,
        )
    planned_rows = {piece.slice_id: piece.expected_rows for _, piece in pending}
    one_snapshot = reads_the_planning_snapshot(context, executor, tasks)
    done = sum(r.rows for r in finished)
    with RowProgress(f"upload {spec.target_table}", total, done) as progress:
        started_writing = time.perf_counter()

        def finish(task: SliceTask, record: SliceRecord) -> None:
            check_slice_rows(spec, task, record, planned_rows.get(task.slice_id), one_snapshot)
            finish_slice(context, manifest, task, record, register=not context.force)
            if executor.remote:  # rows of a remote slice show up when it is done
                elapsed = max(time.perf_counter() - started_writing, 1e-9)
                progress.advance(record.rows, record.rows / elapsed, record.bytes)

        new = executor.run(
            tasks,
            lambda task, stopped: write_here(context, task, progress, stopped=stopped),
            finish,
        )
    records = sorted([*finished, *new], key=lambda r: r.slice_id)
    replaced = None
    if context.force:
        entry.location = generation.location
        entry.partitions = {r.partition: generation.folder(r.partition) for r in records if r.files}
        deleted = finish_replacement(context.storage, context.catalog, entry, generation)
        replaced = {"generation": generation.name, "files_of_earlier_generations_deleted": deleted}
    skipped = len(finished)
    seconds = time.perf_counter() - started
    rows = sum(r.rows for r in records)
    written = sum(r.rows for r in new)
    return {
        "status": "uploaded",
        "rows": rows,
        "files": sum(len(r.files) for r in records),
        "bytes": sum(r.bytes for r in records),
        "seconds": round(seconds, 3),
        # of the rows this run wrote: slices finished before took no time of this run's
        "rows_per_second": round(written / seconds, 1) if seconds and new else None,
        # the latest a row carries: a run that only skipped finished slices stamped none
        "uploaded_at": max(
            (datetime.fromisoformat(r.uploaded_at) for r in records), default=uploaded_at
        ),
        "snapshot": {"kind": source.capabilities.snapshot, "token": source.snapshot_token()},
        "slices_skipped_as_finished": skipped,
        "replaced": replaced,
        "key_columns": list(spec.key_columns),
        "partition_strategy": strategy.value,
        "slices": [
            {
                "slice": r.slice_id,
                "batch_id": r.batch_id,
                "rows": r.rows,
                "files": r.files,
                "bytes": r.bytes,
                "seconds": r.seconds,
                "rows_per_second": round(r.rows / r.seconds, 1) if r.seconds else None,
            }
            for r in records
        ],
    }


def upload(
    project: Project,
    analysis_path: Any,
    strategy: PartitionStrategy = PartitionStrategy.DATE,
    force: bool = False,
    workers: int = 1,
    executor: ExecutorSection | None = None,
) -> list[TableOutcome]:
    """Upload every table the analysis found in the source; write the upload metadata.

    Slices run on `workers` threads, or as tasks on a Dask cluster when `executor` (default:
    the migration config's `executor` section) says `dask`.
    """
    analysis = read_analysis(analysis_path)
    choice = executor or project.migration.executor
    started = now_utc()
    batch_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    storage = open_lake(project.migration)
    source = connect_source(project.source.url, project.migration)
    migration = project.migration
    budget = BatchBudget(migration.max_memory_mb, workers, migration.chunk_size)
    context = UploadContext(
        project,
        source,
        storage,
        open_catalog(storage, migration),
        strategy,
        batch_id,
        force,
        workers=workers,
        budget=budget,
    )
    by_source = {t["source_table"]: t for t in analysis["tables"]}
    tables: list[dict[str, Any]] = []
    ran_on: dict[str, Any] = {}
    try:
        with open_executor(choice, workers, project.source.url, migration) as running:
            context.executor = running
            ran_on = describe(running)
            _upload_tables(context, analysis_path, by_source, tables)
    except BaseException:
        # A run cut short still records the tables it finished: one replaced with --force is
        # then read at this run's cutoff, not at the previous run's.
        if tables:
            _write_metadata(
                project, storage, strategy, workers, ran_on, batch_id, started, tables, True
            )
        raise
    finally:
        context.close_readers()
        source.close()
    _write_metadata(project, storage, strategy, workers, ran_on, batch_id, started, tables)
    return [TableOutcome.from_entry(t) for t in tables]


def _write_metadata(
    project: Project,
    storage: LakeStorage,
    strategy: PartitionStrategy,
    workers: int,
    ran_on: dict[str, Any],
    batch_id: str,
    started: datetime,
    tables: list[dict[str, Any]],
    interrupted: bool = False,
) -> None:
    migration = project.migration
    finished = now_utc()
    content = {
        "step": "upload",
        # cut short: the tables listed finished, the one running then and those after are absent
        "interrupted": interrupted,
        "batch_id": batch_id,
        "started_at": started,
        "finished_at": finished,
        "cutoff": finished,
        "partition_strategy": strategy.value,
        "workers": workers,
        "executor": ran_on,
        "max_memory_mb": migration.max_memory_mb,
        "source": display_url(project.source.url),
        "lake": storage.display_root(),
        "database": storage.database,
        "tables": tables,
    }
    path = write_json(new_upload_metadata_path(project.output, started), content)
    logger.info("upload metadata written to {}", path)


def _upload_tables(
    context: UploadContext,
    analysis_path: Any,
    by_source: dict[str, dict[str, Any]],
    tables: list[dict[str, Any]],
) -> None:
    """Upload each table in turn, appending its entry to `tables` as soon as it is done."""
    storage = context.storage
    for spec in context.project.tables:
        base = {"source_table": spec.source_table, "target_table": spec.target_table}
        analyzed = by_source.get(spec.source_table)
        if not spec.enabled:
            tables.append({**base, "status": "disabled", "reason": "disabled in the inventory"})
        elif analyzed is None:
            tables.append(
                {
                    **base,
                    "status": "skipped",
                    "reason": f"not in the analysis {analysis_path}; rerun analyze",
                }
            )
        elif analyzed["status"] not in UPLOADABLE:
            tables.append(
                {
                    **base,
                    "status": "skipped",
                    "reason": analyzed.get("reason") or analyzed["status"],
                }
            )
        else:
            progress_logger(TABLE).info(
                "{}: upload to {}.{} started",
                spec.source_table,
                storage.database,
                spec.target_table,
            )
            try:
                entry = upload_table(context, spec)
            except LakeshiftError as error:
                logger.error("{}: upload failed: {}", spec.source_table, error)
                tables.append({**base, "status": "failed", "reason": redact(str(error))})
            except Exception as error:  # a defect or a full disk fails its table, not the run
                logger.opt(exception=error).error("{}: upload failed", spec.source_table)
                reason = f"{type(error).__name__}: {error}; see lakeshift.log"
                tables.append({**base, "status": "failed", "reason": redact(reason)})
            else:
                tables.append({**base, **entry})
                progress_logger(TABLE).info(
                    "{}: {} rows uploaded in {:.1f}s ({} slice(s) finished before)",
                    spec.source_table,
                    entry["rows"],
                    entry["seconds"],
                    entry["slices_skipped_as_finished"],
                )
