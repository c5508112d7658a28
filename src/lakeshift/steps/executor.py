"""Where slices run: threads of this process (`local`), or tasks on a Dask cluster (`dask`).

With Dask, each pending slice is one task: the worker connects to the source and writes the
slice's files to the lake itself, so no table data passes through the scheduler or the client.
The client records each slice in the manifest and registers its partition as its task completes
(`finish`), so it stays the single source of truth. A task whose worker dies is run again on
another worker by the scheduler (up to `distributed.scheduler.allowed-failures` times); the
slice's leftovers are deleted before it is written, so a rerun duplicates nothing. lakeshift
adds no retries of its own: transient source and lake errors are retried inside the engines.

Secrets: the source URL reaches the workers inside the task's pickled arguments, as a
`WorkerSettings` whose `repr` masks the password, so it never appears in task keys (which are
`upload-{table}-{slice}-{hash}`), in Dask's logs of a failed task, or on the dashboard. Use a
`tls://` scheduler address on a network you do not trust (see docs/dask.md).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlsplit

import pyarrow.fs as pafs
from loguru import logger

from lakeshift.cluster import dask_client, task_key
from lakeshift.config import ExecutorSection, MigrationConfig
from lakeshift.errors import (
    ConfigError,
    LakeshiftError,
    TerminalError,
    TransientError,
)
from lakeshift.lake.manifest import SliceRecord
from lakeshift.lake.storage import BOOKKEEPING, LakeStorage
from lakeshift.redaction import display_url, redact, register_secret
from lakeshift.steps.budget import BatchBudget
from lakeshift.steps.slice_task import SliceTask, write_slice

if TYPE_CHECKING:
    from distributed import Client

Finish = Callable[[SliceTask, SliceRecord], None]


# Writes a slice in this process; a slice stops (SliceStopped) once `stopped()` says so.
WriteHere = Callable[[SliceTask, Callable[[], bool]], SliceRecord]


class SliceExecutor(Protocol):
    remote: bool  # True: slices run elsewhere and report only when finished

    def run(
        self,
        tasks: Sequence[SliceTask],
        write_here: WriteHere,
        finish: Finish,
    ) -> list[SliceRecord]:
        """Run every task; call `finish` (one call at a time) as each completes."""
        ...


@dataclass
class LocalExecutor:
    """Slices on `workers` threads of this process, written by `write_here`."""

    workers: int = 1
    remote: bool = False
    _finishing: threading.Lock = field(default_factory=threading.Lock)

    def run(
        self,
        tasks: Sequence[SliceTask],
        write_here: WriteHere,
        finish: Finish,
    ) -> list[SliceRecord]:
        """Each slice on a thread; once one fails or the run is interrupted (Ctrl-C, SIGTERM),
        the slices running stop at their next batch, deleting what they wrote, and those
        waiting never start (the pool waited for every running slice to finish: an hour's)."""
        stop = threading.Event()
        failed: list[BaseException] = []  # the first slice's own error, before `stop` is set

        def one(task: SliceTask) -> SliceRecord:
            if stop.is_set():  # another slice failed before this one started
                raise SliceStopped("the upload stopped before this slice started")
            try:
                record = write_here(task, stop.is_set)
            except BaseException as error:
                if not isinstance(error, SliceStopped):
                    failed.append(error)
                stop.set()  # after: a slice that sees it finds the cause in `failed`
                raise
            with self._finishing:
                finish(task, record)
            return record

        if self.workers == 1:
            return [one(task) for task in tasks]
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="slice")
        futures = [pool.submit(one, task) for task in tasks]
        try:
            for future in as_completed(futures):  # the first failure as it happens
                future.result()
            return [future.result() for future in futures]
        except BaseException as error:
            stop.set()
            if isinstance(error, SliceStopped) and failed:
                raise failed[0] from None  # a slice stopped by another's failure: that one
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class WorkerSettings:
    """What a worker needs to open the source and the lake; its repr never shows the password."""

    def __init__(self, source_url: str, migration: MigrationConfig):
        self._source_url = source_url
        self.migration = migration

    @property
    def source_url(self) -> str:
        return self._source_url

    def __repr__(self) -> str:
        return f"WorkerSettings(source={display_url(self._source_url)!r})"

    __str__ = __repr__


def portable_error(error: LakeshiftError) -> LakeshiftError:
    """The error as a client can unpickle it (some errors take other arguments than a message),
    of the same kind (terminal, transient or configuration), its text redacted."""
    message = redact(str(error))
    if isinstance(error, ConfigError):
        return ConfigError(message)
    if isinstance(error, TransientError):
        return TransientError(message)
    return TerminalError(message)


def _worker_threads() -> int:
    from distributed import get_worker

    try:
        return max(1, get_worker().state.nthreads)
    except ValueError:  # not on a worker (called directly, e.g. in a test)
        return 1


class SliceStopped(TerminalError):
    """The client stopped waiting for this slice (another failed, or the run was interrupted)."""


STOP_CHECK_SECONDS = 0.5  # how often a running slice looks whether its client has stopped
STOP_MARKERS_KEPT_SECONDS = 86_400  # a run's stop marker, for slices still running after it


def stop_marker(storage: LakeStorage, run: str) -> str:
    """Where a Dask run tells its running slices to stop: a file in the lake, which every
    worker reaches (a Dask Event could not be read on the workers once the run had failed:
    their Dask client was closed by then)."""
    return storage.path(BOOKKEEPING, "stop", f"{run}.json")


def _task_dropped() -> Callable[[], bool]:
    """Called in a running Dask task: whether the scheduler has since dropped it. A client that
    dies (killed, its machine gone) writes no stop marker; the scheduler then releases its
    tasks, but a running one goes on, and kept writing after a rerun had deleted its slice's
    leftovers: rows twice in the lake."""
    try:
        from distributed import get_worker

        worker = get_worker()
        key = worker.get_current_task()
    except (ImportError, ValueError, AttributeError):  # not in a task on a worker
        return lambda: False

    def dropped() -> bool:
        state = worker.state.tasks.get(key)
        return state is None or state.state in ("cancelled", "released", "forgotten")

    return dropped


def _stop_check(
    storage: LakeStorage, run: str | None, dropped: Callable[[], bool] = lambda: False
) -> Callable[[int, float, int], None] | None:
    """An `on_batch` that raises `SliceStopped` once the run's stop marker exists or the
    scheduler dropped the task (`dropped`): Dask cannot stop a running task, and a slice left
    running would keep writing into the lake while a rerun writes the same slice."""
    if run is None:
        return None
    marker = stop_marker(storage, run)
    looked = [0.0]

    def check(rows: int, rate: float, arrow_bytes: int) -> None:
        now = time.monotonic()
        if rows and now - looked[0] < STOP_CHECK_SECONDS:  # the last call always looks
            return
        looked[0] = now
        if dropped():
            raise SliceStopped("its client is gone: the scheduler dropped this slice")
        try:
            stopped = storage.fs.get_file_info(marker).type == pafs.FileType.File
        except Exception as error:  # the lake is out of reach now: the slice fails by itself
            logger.debug("{}: cannot look for the stop marker: {}", marker, error)
            return
        if stopped:
            raise SliceStopped("the upload stopped before this slice finished")

    return check


def run_slice_task(
    task: SliceTask, settings: WorkerSettings, run: str | None = None
) -> SliceRecord:
    """The Dask task of one slice: open the source and the lake here, write, close. It stops,
    deleting what it wrote, once its run's stop marker (`stop_marker`) is in the lake."""
    from lakeshift.engines.connect import connect_source, open_lake

    password = urlsplit(settings.source_url).password
    register_secret(password)  # this process's logs and errors mask it too
    register_secret(unquote(password) if password else None)
    migration = settings.migration
    budget = BatchBudget(migration.max_memory_mb, _worker_threads(), migration.chunk_size)
    try:
        storage = open_lake(migration)
        source = connect_source(settings.source_url, migration)
        try:
            if task.snapshot is not None:
                source.use_snapshot(task.scope.table, task.snapshot)
            check = _stop_check(storage, run, _task_dropped())
            return write_slice(task, storage, source, budget, check)
        finally:
            source.close()
    except LakeshiftError as error:
        raise portable_error(error) from None


@dataclass
class DaskExecutor:
    """Slices as tasks on a Dask cluster the client is connected to."""

    client: Client
    settings: WorkerSettings
    remote: bool = True

    def run(
        self,
        tasks: Sequence[SliceTask],
        write_here: WriteHere,
        finish: Finish,
    ) -> list[SliceRecord]:
        from distributed import as_completed

        from lakeshift.engines.connect import open_lake

        storage = open_lake(self.settings.migration)
        run = uuid.uuid4().hex
        by_key = {task_key("upload", t.target_table, t.slice_id, t.batch_id): t for t in tasks}
        futures = [
            self.client.submit(run_slice_task, task, self.settings, run, key=key, pure=False)
            for key, task in by_key.items()
        ]
        records = []
        try:
            for future in as_completed(futures):
                record = future.result()  # a failed slice raises its error here
                finish(by_key[future.key], record)
                records.append(record)
        finally:
            # After a failure or an interrupt the other slices stay unfinished: those waiting
            # are cancelled, those running stop at their next batch and delete their files.
            if len(records) < len(futures):
                _tell_running_slices_to_stop(storage, run)
            for future in futures:
                future.cancel()
        return records


def _tell_running_slices_to_stop(storage: LakeStorage, run: str) -> None:
    """Write the run's stop marker; delete the markers of runs over a day old."""
    try:
        storage.write_json(stop_marker(storage, run), {"stopped_at": time.time()})
        for path in storage.list_files(storage.path(BOOKKEEPING, "stop"), ".json"):
            info = storage.fs.get_file_info(path)
            if info.mtime and time.time() - info.mtime.timestamp() > STOP_MARKERS_KEPT_SECONDS:
                storage.delete_files([path])
    except Exception as error:  # the lake is out of reach: the slices fail by themselves
        logger.warning("could not tell the running slices to stop: {}", error)


@contextmanager
def open_executor(
    section: ExecutorSection, workers: int, source_url: str, migration: MigrationConfig
) -> Iterator[SliceExecutor]:
    """The executor a run asks for; a Dask client is closed (a local cluster stopped) after."""
    if section.kind == "local":
        yield LocalExecutor(workers)
        return
    with dask_client(section.scheduler, workers) as client:
        yield DaskExecutor(client, WorkerSettings(source_url, migration))


def describe(executor: Any) -> dict[str, Any]:
    """What the upload metadata records about where slices ran."""
    if isinstance(executor, DaskExecutor):
        return {
            "kind": "dask",
            "scheduler": executor.client.scheduler_info().get("address"),
            "workers": len(executor.client.nthreads()),
        }
    return {"kind": "local", "workers": getattr(executor, "workers", 1)}
