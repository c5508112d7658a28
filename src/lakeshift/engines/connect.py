"""Pick the engine module for a source URL, and open the lake and its query engine.

Each source engine module exposes `connect(url, config) -> SourceEngine`; this table is the only
place that knows which module serves which URL scheme.
"""

from __future__ import annotations

import importlib
from urllib.parse import urlsplit

from lakeshift.config import MigrationConfig
from lakeshift.engines.base import SourceEngine
from lakeshift.engines.duckdb import DuckDBEngine
from lakeshift.errors import ConfigError
from lakeshift.lake.catalog import Catalog, LocalCatalog
from lakeshift.lake.storage import LakeStorage
from lakeshift.redaction import display_url

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
    if config.lake is None:
        raise ConfigError(
            'S3 lakes are not available in this version; set "lake" to a local folder'
        )
    return LakeStorage.local(config.lake, config.database)


def open_catalog(storage: LakeStorage, config: MigrationConfig) -> Catalog:
    """The catalog of the lake: the local catalog beside the files for a local lake."""
    return LocalCatalog(storage)


def connect_lake_engine(storage: LakeStorage, config: MigrationConfig) -> DuckDBEngine:
    catalog = open_catalog(storage, config)
    return DuckDBEngine(catalog, memory_limit_mb=max(config.max_memory_mb, 256))
