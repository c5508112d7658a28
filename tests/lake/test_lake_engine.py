"""The lake's query engine comes from `lake_engine` in migration_config.cfg, and the two engines
of a step compare timestamps at the precision both keep (Athena: milliseconds)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lakeshift.config import MigrationConfig
from lakeshift.engines.athena import AthenaEngine
from lakeshift.engines.connect import (
    compare_timestamps_at_common_precision,
    connect_lake_engine,
    open_lake,
)
from lakeshift.engines.duckdb import DuckDBEngine
from lakeshift.engines.sqlite import SQLiteEngine
from lakeshift.types import Kind, LogicalType


def _config(bucket: str, endpoint: str, profile: str, lake_engine: str) -> MigrationConfig:
    aws = {
        "s3_bucket": bucket,
        "profile": profile,
        "endpoint_url": endpoint,
        "athena_output": f"s3://{bucket}/athena/",
    }
    return MigrationConfig.model_validate({"aws": aws, "lake_engine": lake_engine})


@pytest.mark.parametrize(
    ("lake_engine", "kind", "precision"),
    [("duckdb", DuckDBEngine, "microsecond"), ("athena", AthenaEngine, "millisecond")],
)
def test_the_config_picks_the_lake_engine_and_the_common_precision(
    bucket: str,
    moto_endpoint: str,
    aws_profile: str,
    tmp_path: Path,
    lake_engine: str,
    kind: type,
    precision: str,
) -> None:
    config = _config(bucket, moto_endpoint, aws_profile, lake_engine)
    lake = connect_lake_engine(open_lake(config), config)
    sqlite3.connect(tmp_path / "source.db").close()
    source = SQLiteEngine(tmp_path / "source.db", LogicalType(Kind.DECIMAL, 38, 10))
    try:
        assert isinstance(lake, kind)
        assert compare_timestamps_at_common_precision(source, lake) == precision
        assert source.timestamps_at == lake.timestamps_at == precision
        rendered = source.canonical_sql('"v"', LogicalType(Kind.TIMESTAMP))
        assert ("millisecond" in rendered) == (precision == "millisecond")
    finally:
        source.close()
        lake.close()
