"""End to end on the embedded default: the demo clean, and with known drift."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lakeshift.artifacts import ALIGNMENT_JSON
from lakeshift.cli import app
from lakeshift.demo.runner import run_demo

ARTIFACTS = (
    "migration_analysis.json",
    "migration_analysis.pkl",
    "migration_results.csv",
    "customers_stats_comparison.json",
    "accounts_stats_comparison.json",
    "transactions_stats_comparison.json",
    "data_alignment_results.json",
    "lakeshift.log",
)


def test_clean_demo_verifies_every_table_and_exits_0(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--dir", str(folder), "--rows", "8000"])
    assert result.exit_code == 0, result.output
    assert "all tables passed" in result.output
    output = folder / "output"
    for name in ARTIFACTS:
        assert (output / name).is_file(), name
    assert len(list(output.glob("upload_metadata_*.json"))) == 1
    tables = json.loads((output / ALIGNMENT_JSON).read_text(encoding="utf-8"))["tables"]
    assert {t["target_table"]: t["status"] for t in tables} == {
        "customers": "match",
        "accounts": "match",
        "transactions": "match",
    }
    assert sum(t["rows_compared"] for t in tables) == 8000
    for name in (
        "config_meta.cfg",
        "migration_config.cfg",
        ".env",
        "input_tables.xlsx",
        "column_mappings.json",
    ):
        assert (folder / name).is_file(), name


def _alignment(folder: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    content = json.loads((folder / "output" / ALIGNMENT_JSON).read_text(encoding="utf-8"))
    return {t["target_table"]: t for t in content["tables"]}


def _keys(samples: list[dict]) -> set[str]:  # type: ignore[type-arg]
    return {next(iter(s["key"].values())) for s in samples}


def test_drift_demo_reports_exactly_the_injected_differences(tmp_path: Path) -> None:
    result = run_demo(tmp_path / "demo", 8000, drift=True)
    drifts = {d.kind: d for d in result.drifts}
    tables = _alignment(tmp_path / "demo")

    assert tables["accounts"]["status"] == "match"

    customers = tables["customers"]
    assert customers["status"] == "mismatch"
    assert [c["column"] for c in customers["columns_excluded"]] == ["email"]
    assert customers["periods_excluded"] == []
    assert (
        customers["values"]["missing"]
        + customers["values"]["extra"]
        + customers["values"]["changed"]
        == 0
    )
    email = customers["columns_excluded"][0]
    assert email["target"]["nulls"] == email["target"]["rows"]
    assert all(s["columns"][0]["target"] is None for s in email["localized"]["samples"])

    transactions = tables["transactions"]
    assert transactions["status"] == "mismatch"
    removed = drifts["rows_removed"]
    [period] = transactions["periods_excluded"]
    assert period["period"] == removed.period
    assert period["source_rows"] - period["target_rows"] == len(removed.keys)
    assert _keys(period["localized"]["samples"]) == {str(k) for k in removed.keys}
    changed = drifts["value_changed"]
    [amount] = transactions["columns_excluded"]
    assert amount["column"] == "amount"
    assert _keys(amount["localized"]["samples"]) == {str(k) for k in changed.keys}
    assert amount["localized"]["changed"] == 1
    assert transactions["values"]["changed"] + transactions["values"]["missing"] == 0


def test_drift_demo_exits_1_and_names_the_tables(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--dir", str(tmp_path / "d"), "--rows", "3000", "--drift"]
    )
    assert result.exit_code == 1, result.output
    assert "2 of 3 table(s) did not pass" in result.output
    assert "drift injected" in result.output


def test_demo_refuses_a_folder_it_did_not_create(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = CliRunner().invoke(app, ["demo", "--dir", str(tmp_path), "--rows", "300"])
    assert result.exit_code == 2
    assert "not a lakeshift demo" in result.output
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_rerunning_a_drifted_demo_starts_clean(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    run_demo(folder, 2000, drift=True)
    result = run_demo(folder, 2000, drift=False)
    assert {o.status for o in result.outcomes} == {"match"}
