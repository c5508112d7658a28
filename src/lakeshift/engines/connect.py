"""Pick the engine module for a source URL and for the lake."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from lakeshift.config import MigrationConfig
from lakeshift.engines.base import SourceEngine
from lakeshift.engines.duckdb import DuckDBEngine
from lakeshift.engines.sqlite import SQLiteEngine
from lakeshift.errors import ConfigError
from lakeshift.lake.catalog import LocalCatalog
from lakeshift.lake.storage import LakeStorage
from lakeshift.redaction import display_url

PLANNED_SCHEMES = {"postgresql", "postgres", "mysql", "mariadb", "oracle"}


def connect_source(url: str, config: MigrationConfig) -> SourceEngine:
    """Open the source database a `LAKESHIFT_SOURCE_URL` names."""
    scheme = urlsplit(url).scheme.split("+")[0].lower()
    if scheme == "sqlite":
        return SQLiteEngine(Path(url.split(":///", 1)[1]), config.number_policy)
    if scheme in PLANNED_SCHEMES:
        raise ConfigError(f"source {display_url(url)}: the {scheme} engine is not available in this version")
    raise ConfigError(f"source {display_url(url)}: unknown scheme {scheme!r}; use sqlite, postgresql, mysql or oracle")


def open_lake(config: MigrationConfig) -> LakeStorage:
    if config.lake is None:
        raise ConfigError("S3 lakes are not available in this version; set \"lake\" to a local folder")
    return LakeStorage.local(config.lake, config.database)


def connect_lake_engine(storage: LakeStorage, config: MigrationConfig) -> DuckDBEngine:
    return DuckDBEngine(LocalCatalog(storage), memory_limit_mb=max(config.max_memory_mb, 256))
