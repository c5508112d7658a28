"""The `lakeshift` command: parse arguments, call a step, print a summary, map errors to exit codes.

Exit codes: 0 every enabled table verified equal (or uploaded), 1 a table mismatched, failed or
was skipped, no table is enabled, or a transient error stopped the run (nothing verified, and the
configuration may well be right), 2 bad usage or configuration.
"""

from __future__ import annotations

import signal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from loguru import logger
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lakeshift import __version__
from lakeshift.config import META_CONFIG_NAME, MIGRATION_CONFIG_NAME, ExecutorSection
from lakeshift.errors import ConfigError, LakeshiftError, TransientError
from lakeshift.logs import configure_console, log_to_folder
from lakeshift.project import Project, load_project, upload_inputs
from lakeshift.redaction import redact
from lakeshift.steps.outcome import TableOutcome, enabled_count, exit_code
from lakeshift.steps.slicing import PartitionStrategy

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Move relational tables into a Parquet data lake and prove they arrived intact.",
)
console = Console()
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help=f"{META_CONFIG_NAME} (default: ./{META_CONFIG_NAME})"),
]
MigrationOption = Annotated[
    Path | None,
    typer.Option(
        "--migration-config", help=f"{MIGRATION_CONFIG_NAME} (default: beside {META_CONFIG_NAME})"
    ),
]
Verbose = Annotated[
    int,
    typer.Option(
        "--verbose", "-v", count=True, metavar="", help="-v for progress logs, -vv for debug"
    ),
]
Strategy = Annotated[
    PartitionStrategy,
    typer.Option("--partition-strategy", help="how tables are sliced and partitioned"),
]
Workers = Annotated[
    int,
    typer.Option(
        "--workers", min=1, max=64, help="slices uploaded at once, each on its own connection"
    ),
]
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        metavar="",
        help="replace tables already uploaded instead of skipping finished slices",
    ),
]


class ExecutorName(StrEnum):
    LOCAL = "local"
    DASK = "dask"


ExecutorKind = Annotated[
    ExecutorName | None,
    typer.Option(
        "--executor",
        help="where slices run: local threads or a Dask cluster (default: the config's executor)",
    ),
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help='Dask scheduler address (tcp://host:8786) or "local" (default: the config\'s)',
    ),
]

STATUS_STYLE = {
    "match": "green",
    "uploaded": "green",
    "disabled": "dim",
    "not_migrated": "yellow",
    "skipped": "yellow",
}


def print_summary(step: str, outcomes: list[TableOutcome]) -> int:
    table = Table(title=f"lakeshift {step}", title_justify="left")
    for header in ("source table", "target table", "status", "detail"):
        table.add_column(header, overflow="fold")
    for o in outcomes:
        style = STATUS_STYLE.get(o.status, "red")
        table.add_row(
            o.source_table, o.target_table, f"[{style}]{o.status}[/{style}]", o.detail[:300]
        )
    console.print(table)
    # analyze: a table not uploaded yet is where every migration starts, not a failure
    also_passing = frozenset({"not_migrated"} if step == "analyze" else ())
    code = exit_code(outcomes, also_passing)
    passed = sum(
        1 for o in outcomes if o.status in ("match", "uploaded") or o.status in also_passing
    )
    enabled = enabled_count(outcomes)
    if enabled == 0:
        verdict = "[red]no table is enabled in the inventory: nothing was verified[/red]"
    elif code == 0:
        verdict = "[green]all tables passed[/green]"
    else:
        verdict = f"[red]{enabled - passed} of {enabled} table(s) did not pass[/red]"
    console.print(f"{step}: {verdict}")
    return code


def _executor(
    project: Project, kind: ExecutorName | None, scheduler: str | None
) -> ExecutorSection:
    """The config's `executor` section with the command line's choices over it."""
    chosen = project.migration.executor.model_dump()
    chosen.update(
        {k: v for k, v in {"kind": kind and kind.value, "scheduler": scheduler}.items() if v}
    )
    try:
        return ExecutorSection.model_validate(chosen)
    except ValidationError as error:
        raise ConfigError(f"--scheduler: {error.errors()[0]['msg']}") from None


def _project(config: Path | None, migration: Path | None, verbose: int) -> Project:
    configure_console(verbose)
    project = load_project(config, migration)
    log_to_folder(project.output)
    return project


@app.command()
def analyze(
    config: ConfigOption = None, migration_config: MigrationOption = None, verbose: Verbose = 0
) -> None:
    """Compare source and lake schemas and row counts; write migration_analysis.* and the CSV."""
    from lakeshift.steps.analyze import analyze as run_analyze

    _exit(
        lambda: print_summary("analyze", run_analyze(_project(config, migration_config, verbose)))
    )


@app.command()
def upload(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help=f"{MIGRATION_CONFIG_NAME} (default: beside {META_CONFIG_NAME})",
        ),
    ] = None,
    analysis_output: Annotated[
        Path | None,
        typer.Option(
            "--analysis-output",
            help="migration_analysis.pkl or .json (default: the one in the output folder of "
            "config_meta.cfg)",
        ),
    ] = None,
    partition_strategy: Strategy = PartitionStrategy.DATE,
    meta_config: Annotated[
        Path | None,
        typer.Option(
            "--meta-config", help=f"{META_CONFIG_NAME} (default: the one the analysis used)"
        ),
    ] = None,
    force: Force = False,
    workers: Workers = 1,
    executor: ExecutorKind = None,
    scheduler: Scheduler = None,
    verbose: Verbose = 0,
) -> None:
    """Extract source tables into Parquet in the lake; write upload_metadata_{timestamp}.json."""
    from lakeshift.steps.upload import upload as run_upload

    def run() -> int:
        configure_console(verbose)
        meta, analysis = upload_inputs(meta_config, analysis_output)
        project = _project(meta, config, verbose)
        if meta_config is None and project.meta_path != Path(META_CONFIG_NAME).resolve():
            console.print(
                f"upload: {project.meta_path}, the config the analysis was made with",
                markup=False,
                soft_wrap=True,
            )
        running = _executor(project, executor, scheduler)
        return print_summary(
            "upload",
            run_upload(project, analysis, partition_strategy, force, workers, running),
        )

    _exit(run)


@app.command()
def compare(
    config: ConfigOption = None, migration_config: MigrationOption = None, verbose: Verbose = 0
) -> None:
    """Compare per-column statistics on both engines; write {table}_stats_comparison.json."""
    from lakeshift.steps.compare import compare as run_compare

    _exit(
        lambda: print_summary("compare", run_compare(_project(config, migration_config, verbose)))
    )


@app.command()
def align(
    config: ConfigOption = None, migration_config: MigrationOption = None, verbose: Verbose = 0
) -> None:
    """Exclude mismatched columns and periods, compare the rest value by value."""
    from lakeshift.steps.align import align as run_align

    _exit(lambda: print_summary("align", run_align(_project(config, migration_config, verbose))))


@app.command()
def report(
    config: ConfigOption = None, migration_config: MigrationOption = None, verbose: Verbose = 0
) -> None:
    """Render report.html, the one page a person reads to sign off, from the artifacts."""
    from lakeshift.steps.report import write_report

    def go() -> int:
        path = write_report(_project(config, migration_config, verbose))
        console.print(f"report: {path}")
        return 0

    _exit(go)


@app.command()
def run(
    config: ConfigOption = None,
    migration_config: MigrationOption = None,
    partition_strategy: Strategy = PartitionStrategy.DATE,
    force: Force = False,
    workers: Workers = 1,
    executor: ExecutorKind = None,
    scheduler: Scheduler = None,
    verbose: Verbose = 0,
) -> None:
    """Run analyze, upload, compare and align in order, then write report.html.

    The exit code is align's verdict.
    """
    from lakeshift.steps.pipeline import run_pipeline

    def go() -> int:
        project = _project(config, migration_config, verbose)
        running = _executor(project, executor, scheduler)
        return print_summary(
            "run", run_pipeline(project, partition_strategy, force, workers, running)
        )

    _exit(go)


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="folder for the demo's database, configs, lake and output")
    ] = Path("lakeshift-demo"),
    rows: Annotated[
        int, typer.Option("--rows", min=100, help="rows in all tables together")
    ] = 1_000_000,
    drift: Annotated[
        bool, typer.Option("--drift", metavar="", help="change the lake after upload in known ways")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="random seed of the generated data")] = 7,
    verbose: Verbose = 0,
) -> None:
    """Build the embedded default (SQLite source, local lake, DuckDB) and run the whole pipeline."""
    from lakeshift.demo.runner import run_demo

    def go() -> int:
        configure_console(verbose)
        result = run_demo(directory, rows, drift, seed)
        for note in result.notes:
            console.print(note)
        return print_summary("demo", result.outcomes)

    _exit(go)


@app.command()
def check(
    config: ConfigOption = None, migration_config: MigrationOption = None, verbose: Verbose = 0
) -> None:
    """Before a long run: credentials, a writable bucket, the Glue database, Athena's output."""
    from lakeshift.steps.check import check as run_check

    def go() -> int:
        results = run_check(_project(config, migration_config, verbose))
        for result in results:
            console.print(result.line(), highlight=False, soft_wrap=True)
        return 0 if all(r.ok for r in results) else 2

    _exit(go)


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"lakeshift {__version__}")


def _exit(work: object) -> None:
    assert callable(work)
    try:
        code = work()
    except ConfigError as error:
        console.print(
            f"[red]error:[/red] {escape(redact(str(error)))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(2) from None
    except TransientError as error:
        # Expected (a server that does not answer, a dropped connection): the message says it
        # all, so its traceback goes only to the log file and to the console at -vv.
        logger.opt(exception=error).debug("stopped by a transient error")
        console.print(
            f"[red]error:[/red] {escape(redact(str(error)))}; this may pass: run the step again "
            "later",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    except LakeshiftError as error:
        logger.exception("stopped")
        console.print(
            f"[red]error:[/red] {escape(redact(str(error)))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        logger.warning("interrupted")
        console.print(
            "[red]interrupted:[/red] what finished is recorded (an upload's finished slices and "
            "tables); run the step again to resume"
        )
        raise typer.Exit(130) from None
    raise typer.Exit(code)


def _terminated(signal_number: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signal_number).name)


def main() -> None:
    # systemd, containers and CI time-outs stop a process with SIGTERM: taken as Ctrl-C, so an
    # upload records the tables it finished and compare and align see their rows.
    signal.signal(signal.SIGTERM, _terminated)
    app()
