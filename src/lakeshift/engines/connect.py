"""Pick the engine module for a source URL, and open the lake and its query engine.

Each source engine module exposes `connect(url, config) -> SourceEngine`; this table is the only
place that knows which module serves which URL scheme.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lakeshift.config import MigrationConfig
from lakeshift.engines.base import Engine, SourceEngine, SqlEngine
from lakeshift.errors import ConfigError
from lakeshift.lake.catalog import Catalog, LocalCatalog
from lakeshift.lake.storage import LakeStorage
from lakeshift.redaction import display_url
from lakeshift.verify.canonical import common_precision

if TYPE_CHECKING:
    from distributed import Client

SOURCE_MODULES = {
    "sqlite": "lakeshift.engines.sqlite",
    "postgresql": "lakeshift.engines.postgres",
    "postgres": "lakeshift.engines.postgres",
    "mysql": "lakeshift.engines.mysql",
    "mariadb": "lakeshift.engines.mysql",
    "oracle": "lakeshift.engines.oracle",
}


def connect_source(url: str, config: MigrationConfig) -> SourceEngine:
    """Open the source database a `LAKESHIFT_SOURCE_URL` names."""
    scheme = urlsplit(url).scheme.split("+")[0].lower()
    module_name = SOURCE_MODULES.get(scheme)
    if module_name is None:
        known = ", ".join(sorted(SOURCE_MODULES))
        raise ConfigError(
            f"source {display_url(url)}: unknown scheme {scheme!r}; use one of {known}"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            raise ConfigError(
                f"source {display_url(url)}: the {scheme} engine is not available in this version"
            ) from None
        raise ConfigError(
            f"source {display_url(url)}: the {scheme} engine needs the package {error.name}; "
            f"install lakeshift with its extra, e.g. pip install 'lakeshift[{scheme}]'"
        ) from None
    engine: SourceEngine = module.connect(url, config)
    return engine


def open_lake(config: MigrationConfig) -> LakeStorage:
    """The lake root: the local folder `lake` when set, else `s3://{aws.s3_bucket}/{aws.prefix}`."""
    if config.lake is not None:
        try:
            return LakeStorage.local(config.lake, config.database)
        except OSError as error:
            raise ConfigError(
                f"{config.lake} cannot be created ({error.strerror}): name a folder that can be"
                " created and written",
                file=config.file,
                where="lake",
            ) from None
    aws = config.aws
    if not aws.s3_bucket:
        raise ConfigError('set "lake" (a local folder) or "aws.s3_bucket"')
    return LakeStorage.s3(
        aws.s3_bucket,
        aws.prefix,
        config.database,
        profile=aws.profile,
        region=aws.region,
        endpoint_url=aws.endpoint_url,
    )


def open_catalog(storage: LakeStorage, config: MigrationConfig) -> Catalog:
    """The catalog of the lake: Glue for a lake on S3, the local catalog beside local files."""
    if storage.s3_location is not None:
        from lakeshift.lake.glue import GlueCatalog

        return GlueCatalog(storage, config.aws.glue_database or config.database)
    return LocalCatalog(storage)


def connect_lake_engine(
    storage: LakeStorage,
    config: MigrationConfig,
    engine: str | None = None,
    cluster: Client | None = None,
) -> SqlEngine:
    """The lake's query engine (`engine`, else the config's `lake_engine`): DuckDB reading the
    files in place (local or S3, no per-query cost), or Athena over the Glue catalog (S3 only).
    With a Dask `cluster`, DuckDB's pass-1 checksums run file by file on its workers."""
    catalog = open_catalog(storage, config)
    if (engine or config.lake_engine) == "athena":
        from lakeshift.engines.athena import connect_athena

        return connect_athena(catalog, config)
    memory_limit_mb = max(config.max_memory_mb, 256)
    if cluster is not None:
        from lakeshift.engines.duckdb_cluster import ClusterDuckDBEngine

        return ClusterDuckDBEngine(catalog, cluster, config, memory_limit_mb=memory_limit_mb)
    from lakeshift.engines.duckdb import DuckDBEngine  # imported only once the lake is queried

    return DuckDBEngine(catalog, memory_limit_mb=memory_limit_mb)


def compare_timestamps_at_common_precision(source: Engine, lake: Engine) -> str:
    """Make both engines render timestamps at the coarsest precision either keeps (Athena:
    milliseconds), so sub-millisecond data is compared where both can see it; returns it."""
    precision = common_precision(
        source.capabilities.timestamp_precision, lake.capabilities.timestamp_precision
    )
    source.compare_timestamps_at(precision)
    lake.compare_timestamps_at(precision)
    return precision
