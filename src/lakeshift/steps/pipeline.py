"""`run`: the four steps in order, each reading the previous step's artifacts, then the report."""

from __future__ import annotations

from lakeshift.artifacts import ANALYSIS_PICKLE
from lakeshift.config import ExecutorSection
from lakeshift.project import Project
from lakeshift.steps.align import align
from lakeshift.steps.analyze import analyze
from lakeshift.steps.compare import compare
from lakeshift.steps.outcome import TableOutcome
from lakeshift.steps.report import write_report
from lakeshift.steps.slicing import PartitionStrategy
from lakeshift.steps.upload import upload


def run_pipeline(
    project: Project,
    strategy: PartitionStrategy = PartitionStrategy.DATE,
    force: bool = False,
    workers: int = 1,
    executor: ExecutorSection | None = None,
) -> list[TableOutcome]:
    """Analyze, upload, compare, align; returns align's verdicts (upload failures kept)."""
    analyze(project)
    uploaded = upload(project, project.output / ANALYSIS_PICKLE, strategy, force, workers, executor)
    compare(project)
    verdicts = align(project)
    write_report(project)
    failed = {o.source_table: o for o in uploaded if o.status == "failed"}
    return [failed.get(o.source_table, o) for o in verdicts]
