"""The command line: what a stopped run prints, and its exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lakeshift.cli import app
from lakeshift.errors import TransientError

TIMED_OUT = (
    "source mysql://u:***@10.255.255.1:3306/db?connect_timeout=3: Lost connection to server at "
    "'handshake: reading initial communication packet', system error: 110"
)


@pytest.fixture
def unanswered_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make_project: Any) -> Path:
    """A project whose source does not answer: connecting raises a transient error."""

    def connect_source(url: str, config: Any) -> Any:
        raise TransientError(TIMED_OUT)

    monkeypatch.setattr("lakeshift.steps.analyze.connect_source", connect_source)
    meta: Path = make_project(f"sqlite:///{tmp_path / 'source.db'}", [{"source_table": "main.t"}])
    return meta


def test_a_transient_error_that_stops_the_run_is_one_line_and_exit_1(
    unanswered_source: Path,
) -> None:
    result = CliRunner().invoke(app, ["analyze", "-c", str(unanswered_source)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {TIMED_OUT}")
    assert "run the step again" in lines[0]
    log = (unanswered_source.parent / "output" / "lakeshift.log").read_text(encoding="utf-8")
    assert "Traceback" in log and "TransientError" in log


def test_its_traceback_is_on_the_console_at_debug_level(unanswered_source: Path) -> None:
    result = CliRunner().invoke(app, ["analyze", "-vv", "-c", str(unanswered_source)])
    assert result.exit_code == 1
    assert "Traceback" in result.output


def test_every_table_disabled_verifies_nothing_and_exits_1(
    tmp_path: Path, make_project: Any
) -> None:
    import sqlite3

    path = tmp_path / "source.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE a (id INTEGER PRIMARY KEY)")
    meta: Path = make_project(f"sqlite:///{path}", [{"source_table": "main.a", "enabled": "false"}])
    result = CliRunner().invoke(app, ["run", "-c", str(meta)])
    assert result.exit_code == 1, result.output
    assert "run: no table is enabled in the inventory: nothing was verified" in result.output
    assert "passed" not in result.output
    page = (meta.parent / "output" / "report.html").read_text(encoding="utf-8")
    assert "No tables to verify" in page and "Signed off" not in page


@pytest.fixture
def dated(dated_project: Any) -> Path:
    """A SQLite table of 600 rows over three months, read in batches of 50."""
    meta: Path = dated_project(600, chunk_size=50)
    return meta


def test_without_a_terminal_a_run_says_which_table_each_step_starts_and_ends(
    dated: Path,
) -> None:
    """From cron, CI or `| tee` there are no bars: by default each step still names each table
    as it starts and ends, and nothing more (rows and passes are -v's)."""
    result = CliRunner().invoke(app, ["run", "-c", str(dated)])
    assert result.exit_code == 0, result.output
    logged = [line for line in result.output.splitlines() if line.startswith("INFO")]
    assert logged == [
        "INFO     main.t: analyze started",
        "INFO     main.t: analyze not_migrated (600 source rows)",
        "INFO     main.t: upload to test.t started",
        *[line for line in logged if " rows uploaded in " in line],
        "INFO     main.t: compare with test.t started",
        "INFO     main.t: compare match",
        "INFO     main.t: align with test.t started",
        "INFO     main.t: align match",
    ]
    assert len(logged) == 8 and logged[3].startswith("INFO     main.t: 600 rows uploaded in ")


def test_without_a_terminal_v_adds_a_long_slices_rows_and_aligns_passes(
    dated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lakeshift.steps import progress

    runner = CliRunner()
    assert runner.invoke(app, ["analyze", "-c", str(dated)]).exit_code == 0
    monkeypatch.setattr(progress, "LOG_EVERY_SECONDS", 0.0)  # a line each batch: a long slice
    uploaded = runner.invoke(
        app,
        [
            "upload",
            "-v",
            "-c",
            str(dated.parent / "migration_config.cfg"),
            "--meta-config",
            str(dated),
            "--partition-strategy",
            "none",
        ],
    )
    assert uploaded.exit_code == 0, uploaded.output
    assert "INFO     upload t: 300 of about 600 rows (50%), " in uploaded.output
    aligned = runner.invoke(app, ["align", "-v", "-c", str(dated)])
    assert aligned.exit_code == 0, aligned.output
    assert "main.t: align values of 3 column(s) in 4 bucket(s) a period: pass 1, " in (
        aligned.output
    )


def test_upload_reads_the_migration_config_beside_its_meta_config(
    tmp_path: Path, make_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from another folder, upload looked for ./migration_config.cfg where every other
    step reads the one beside config_meta.cfg; and a config taken from the analysis is named."""
    import sqlite3

    path = tmp_path / "source.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE a (id INTEGER PRIMARY KEY)")
        connection.execute("INSERT INTO a VALUES (1)")
    meta: Path = make_project(f"sqlite:///{path}", [{"source_table": "main.a"}])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert CliRunner().invoke(app, ["analyze", "-c", str(meta)]).exit_code == 0
    result = CliRunner().invoke(app, ["upload", "--meta-config", str(meta)])
    assert result.exit_code == 0, result.output
    assert "the config the analysis was made with" not in result.output
    analysis = meta.parent / "output" / "migration_analysis.pkl"
    result = CliRunner().invoke(app, ["upload", "--analysis-output", str(analysis)])
    assert result.exit_code == 0, result.output
    assert f"upload: {meta.resolve()}, the config the analysis was made with" in result.output
