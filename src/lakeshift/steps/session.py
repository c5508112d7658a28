"""Open both engines for a step and walk the uploaded tables, one verdict per table."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loguru import logger

from lakeshift.artifacts import uploads_by_table
from lakeshift.engines.base import Engine, SourceEngine
from lakeshift.engines.connect import (
    compare_timestamps_at_common_precision,
    connect_lake_engine,
    connect_source,
    open_lake,
)
from lakeshift.errors import LakeshiftError, TerminalError
from lakeshift.lake.storage import LakeStorage
from lakeshift.logs import TABLE, progress_logger
from lakeshift.project import Project
from lakeshift.redaction import redact
from lakeshift.steps.pairing import TablePair, pair_table
from lakeshift.steps.progress import progress_over


@dataclass(frozen=True)
class Engines:
    source: SourceEngine
    storage: LakeStorage
    lake: Engine


@contextmanager
def open_engines(project: Project) -> Iterator[Engines]:
    """Source and lake engines at their common timestamp precision; with the `dask` executor
    (and DuckDB as the lake engine) the lake's pass-1 checksums run on the cluster."""
    migration = project.migration
    with ExitStack() as stack:
        cluster = None
        if migration.executor.kind == "dask" and migration.lake_engine == "duckdb":
            from lakeshift.cluster import dask_client

            cluster = stack.enter_context(dask_client(migration.executor.scheduler))
        source = connect_source(project.source.url, migration)
        stack.callback(source.close)
        storage = open_lake(migration)
        lake = connect_lake_engine(storage, migration, cluster=cluster)
        stack.callback(lake.close)
        compare_timestamps_at_common_precision(source, lake)
        yield Engines(source, storage, lake)


def each_uploaded_table(
    project: Project, engines: Engines, step: str, work: Callable[[TablePair], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Run `work` on every enabled table that was uploaded; others get a skipped entry."""
    uploads = uploads_by_table(project.output)
    entries = []
    for spec in progress_over(project.tables, step, lambda s: s.source_table):
        base = {"source_table": spec.source_table, "target_table": spec.target_table}
        if not spec.enabled:
            entries.append({**base, "status": "disabled", "reason": "disabled in the inventory"})
            continue
        try:
            exists = engines.source.table_exists(spec.source_table)
        except TerminalError as error:  # several tables match its name: this table fails
            logger.error("{}: {} failed: {}", spec.source_table, step, error)
            entries.append({**base, "status": "error", "reason": redact(str(error))})
            continue
        if not exists:
            missing = engines.source.capabilities.missing_source_table
            logger.warning("{}: {}; skipped", spec.source_table, missing)
            entries.append({**base, "status": "skipped", "reason": missing})
            continue
        if spec.target_table not in uploads:
            entries.append(
                {**base, "status": "skipped", "reason": "no successful upload recorded; run upload"}
            )
            continue
        metadata, upload = uploads[spec.target_table]
        progress_logger(TABLE).info(
            "{}: {} with {}.{} started",
            spec.source_table,
            step,
            engines.storage.database,
            spec.target_table,
        )
        try:
            cutoff = datetime.fromisoformat(metadata["cutoff"])
            pair = pair_table(
                project, spec, engines.source, engines.lake, upload, cutoff, metadata["batch_id"]
            )
            entry = work(pair)
        except LakeshiftError as error:
            logger.error("{}: {} failed: {}", spec.source_table, step, error)
            entry = {"status": "error", "reason": redact(str(error))}
        except Exception as error:  # a defect must fail its table, not every table after it
            logger.opt(exception=error).error("{}: {} failed unexpectedly", spec.source_table, step)
            reason = f"internal error ({type(error).__name__}: {error}); see lakeshift.log"
            entry = {"status": "error", "reason": redact(reason)}
        progress_logger(TABLE).info("{}: {} {}", spec.source_table, step, entry["status"])
        entries.append({**base, "batch_id": metadata["batch_id"], **entry})
    return entries


def scanned_since(engine: Engine, before: int | None) -> int | None:
    """Bytes `engine` scanned since it had scanned `before` (None where it does not say)."""
    now = engine.bytes_scanned
    return None if now is None or before is None else now - before
