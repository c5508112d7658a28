"""Everything a step needs, loaded and validated once: configs, `.env`, inventory, mappings."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from lakeshift.artifacts import ANALYSIS_PICKLE, read_analysis
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
from lakeshift.errors import ConfigError
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


def load_project(
    meta_path: Path | str | None = None, migration_path: Path | str | None = None
) -> Project:
    """Load both configs; each defaults to its usual name (the migration config beside the meta)."""
    meta_path = Path(meta_path or META_CONFIG_NAME).resolve()
    if meta_path.is_dir():
        meta_path = meta_path / META_CONFIG_NAME
    meta = load_meta_config(meta_path)
    migration_path = Path(migration_path or meta_path.parent / MIGRATION_CONFIG_NAME).resolve()
    migration = load_migration_config(migration_path)
    source = load_source_settings(meta.input.env)
    tables = load_inventory(meta.input.table)
    mappings = load_column_mappings(meta.input.column_maps, tables)
    _make_output_folder(meta.output.folder, meta_path)
    # The lake is made by the steps that open it (lakeshift.engines.connect.open_lake): `report`
    # reads the output folder only, on a machine that may not see the lake.
    if migration.lake is not None and migration.lake.is_file():
        raise ConfigError(
            f"{migration.lake} is a file, not a folder: name the lake's folder",
            file=str(migration_path),
            where="lake",
        )
    return Project(meta_path, meta, migration_path, migration, source, tables, mappings)


def _make_output_folder(folder: Path, config: Path) -> None:
    """Create the output folder and write a file in it: a path that cannot be one is the
    config's mistake, not a traceback."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as error:
        if folder.is_file():
            problem = "is a file, not a folder"
        else:
            problem = f"cannot be {'written' if folder.is_dir() else 'created'} ({error.strerror})"
        raise ConfigError(
            f"{folder} {problem}: name a folder that can be created and written",
            file=str(config),
            where="[output] folder",
        ) from None


def upload_inputs(meta_config: Path | None, analysis: Path | None) -> tuple[Path, Path]:
    """(config_meta, analysis) for `upload`.

    The analysis: as given when it exists; else, by its name (`migration_analysis.pkl` if none
    is given), in the output folder of `meta_config` or, without it, of the `config_meta.cfg`
    here, where `analyze` writes it (the original scripts were run with `--analysis-output
    migration_analysis.pkl` from the project folder); `output/migration_analysis.pkl` only when
    there is no config to ask. The config: `meta_config`; else the one here when its output
    folder is where the analysis is; else the one the analysis was made with, found beside the
    analysis as it was then when that config's output folder is indeed where the analysis is
    (so a copied project uploads with its own configs), else at its recorded path. Folders are
    compared resolved (an output folder may be a symbolic link).
    """
    if meta_config is not None and meta_config.is_dir():
        meta_config = meta_config / META_CONFIG_NAME
    here = meta_config or Path(META_CONFIG_NAME)
    here_output = _output_folder(here) if here.is_file() else None
    found = analysis if analysis is not None and analysis.is_file() else None
    looked: list[Path] = [analysis] if analysis is not None else []
    if found is None and here_output is not None:
        candidate = here_output / (analysis.name if analysis else ANALYSIS_PICKLE)
        looked.append(candidate)
        found = candidate if candidate.is_file() else None
    elif found is None and meta_config is None:  # no config to ask: the usual place
        legacy = analysis or Path("output") / ANALYSIS_PICKLE
        looked.append(legacy)
        found = legacy if legacy.is_file() else None
    if found is None:
        raise ConfigError(
            "analysis output not found (looked at "
            + ", ".join(str(path) for path in dict.fromkeys(looked or [here]))
            + "); run `lakeshift analyze` first, or name it with --analysis-output",
            file=str(analysis or here),
        )
    content = read_analysis(found)
    recorded = Path(content["config_meta"])
    if meta_config is None and here_output == found.parent.resolve():
        return here, found  # the config here names the folder the analysis is in: this project
    if meta_config is not None:
        if recorded.is_file() and recorded.resolve() != meta_config.resolve():
            logger.warning(
                "{} was made with {}; uploading with {} as --meta-config says",
                found,
                recorded,
                meta_config,
            )
        return meta_config, found
    relative = content.get("config_meta_relative")
    if isinstance(relative, str):
        beside = found.parent.resolve() / relative
        if beside.is_file() and _output_folder(beside) == found.parent.resolve():
            return beside, found
    return recorded, found


def _output_folder(meta_path: Path) -> Path:
    return load_meta_config(meta_path.resolve()).output.folder.resolve()
