"""Dask distributed, as lakeshift uses it: a client of a cluster, and task keys free of secrets.

Dask is an optional dependency (`pip install 'lakeshift[dask]'`); it is imported only when a run
asks for the `dask` executor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from lakeshift.errors import ConfigError

if TYPE_CHECKING:
    from distributed import Client


def task_key(kind: str, table: str, name: str, *salt: str) -> str:
    """A readable, unique Dask key that holds no secret: `{kind}-{table}-{name}-{hash}`.

    >>> task_key("upload", "events", "_period=2024-03", "20240401T000000Z-1a2b3c4d")
    'upload-events-_period=2024-03-ad37b9d05024'
    """
    digest = hashlib.sha256("\0".join([kind, table, name, *salt]).encode()).hexdigest()[:12]
    return f"{kind}-{table}-{name}-{digest}"


@contextmanager
def dask_client(scheduler: str, workers: int = 2) -> Iterator[Client]:
    """A client of the scheduler at `scheduler` (`tcp://host:8786`), or of a new cluster of
    `workers` local processes when it is "local"; closed (the local cluster stopped) after."""
    try:
        from distributed import Client, LocalCluster
    except ModuleNotFoundError:
        raise ConfigError(
            "the dask executor needs Dask distributed: pip install 'lakeshift[dask]'"
        ) from None
    if scheduler == "local":
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(scheduler, timeout="30s")
    except OSError as error:
        raise ConfigError(f"cannot reach the Dask scheduler {scheduler}: {error}") from None
    with client:
        yield client
