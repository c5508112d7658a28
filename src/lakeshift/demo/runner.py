"""`lakeshift demo`: generate the embedded default and run the whole pipeline on it."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from loguru import logger

from lakeshift.artifacts import ANALYSIS_PICKLE
from lakeshift.demo.data import create_demo_database
from lakeshift.demo.drift import Drift, apply_drift
from lakeshift.demo.files import write_demo_configs
from lakeshift.engines.connect import open_lake
from lakeshift.errors import ConfigError
from lakeshift.logs import log_to_folder
from lakeshift.project import load_project
from lakeshift.steps.align import align
from lakeshift.steps.analyze import analyze
from lakeshift.steps.compare import compare
from lakeshift.steps.outcome import TableOutcome
from lakeshift.steps.report import write_report
from lakeshift.steps.slicing import PartitionStrategy
from lakeshift.steps.upload import upload

MARKER = ".lakeshift-demo"
GENERATED = ("lake", "output", "source.db")


def prepare_folder(folder: Path) -> None:
    """Create the demo folder, or clear what an earlier demo generated in it."""
    if folder.exists() and any(folder.iterdir()) and not (folder / MARKER).exists():
        raise ConfigError(
            "folder exists and is not a lakeshift demo; choose another --dir", file=str(folder)
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text(
        "created by `lakeshift demo`; the demo clears lake/ and output/ here\n"
    )
    for name in GENERATED:
        target = folder / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


@dataclass
class DemoResult:
    outcomes: list[TableOutcome]
    notes: list[str]
    drifts: list[Drift] = field(default_factory=list)


def run_demo(folder: Path, rows: int, drift: bool, seed: int = 7) -> DemoResult:
    """Build the demo in `folder` and run analyze, upload, (drift), compare and align."""
    started = time.perf_counter()
    prepare_folder(folder)
    counts = create_demo_database(folder / "source.db", rows, seed)
    write_demo_configs(folder)
    project = load_project(folder / "config_meta.cfg")
    log_to_folder(project.output)
    logger.info("demo source: {}", counts)
    notes = [
        f"demo folder: {folder.resolve()} ({sum(counts.values()):,} rows in {len(counts)} tables)"
    ]
    analyze(project)
    upload(project, project.output / ANALYSIS_PICKLE, PartitionStrategy.DATE)
    drifts = apply_drift(open_lake(project.migration)) if drift else []
    notes += [f"drift injected: {change.describe()}" for change in drifts]
    compare(project)
    outcomes = align(project)
    notes.append(f"sign-off report: {write_report(project).resolve()}")
    notes.append(
        f"artifacts in {project.output.resolve()}; finished in {time.perf_counter() - started:.1f}s"
    )
    return DemoResult(outcomes, notes, drifts)
