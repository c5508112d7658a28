"""Everything a step needs, loaded and validated once: configs, `.env`, inventory, mappings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lakeshift.config import (
    META_CONFIG_NAME,
    MIGRATION_CONFIG_NAME,
    MetaConfig,
    MigrationConfig,
    SourceSettings,
    load_meta_config,
    load_migration_config,
    load_source_settings,
)
from lakeshift.inventory import ColumnMapping, TableSpec, load_column_mappings, load_inventory


@dataclass(frozen=True)
class Project:
    meta_path: Path
    meta: MetaConfig
    migration_path: Path
    migration: MigrationConfig
    source: SourceSettings
    tables: list[TableSpec]
    mappings: dict[str, ColumnMapping]

    @property
    def output(self) -> Path:
        folder = self.meta.output.folder
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @property
    def enabled_tables(self) -> list[TableSpec]:
        return [spec for spec in self.tables if spec.enabled]

    def spec_for_target(self, target: str) -> TableSpec | None:
        return next((s for s in self.tables if s.target_table == target), None)


def load_project(meta_path: Path | None = None, migration_path: Path | None = None) -> Project:
    """Load both configs; each defaults to its usual name (the migration config beside the meta)."""
    meta_path = (meta_path or Path(META_CONFIG_NAME)).resolve()
    if meta_path.is_dir():
        meta_path = meta_path / META_CONFIG_NAME
    meta = load_meta_config(meta_path)
    migration_path = (migration_path or meta_path.parent / MIGRATION_CONFIG_NAME).resolve()
    migration = load_migration_config(migration_path)
    source = load_source_settings(meta.input.env)
    tables = load_inventory(meta.input.table)
    mappings = load_column_mappings(meta.input.column_maps, tables)
    return Project(meta_path, meta, migration_path, migration, source, tables, mappings)
