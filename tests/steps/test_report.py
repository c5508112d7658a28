"""report.html from the artifacts of a drifted demo: verdict, injected differences, order,
escaping, self-containment, and artifacts that are missing or broken."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lakeshift.artifacts import ALIGNMENT_JSON, stats_comparison_name
from lakeshift.demo.drift import Drift
from lakeshift.demo.runner import run_demo
from lakeshift.project import load_project
from lakeshift.report.assemble import TableArtifacts, table_levels, table_status
from lakeshift.report.model import STATUS_ORDER, PeriodCount
from lakeshift.report.svg import BAND_FILL, MISMATCH_FILL, nice_ticks, period_chart
from lakeshift.steps.report import REPORT_HTML, render_report, write_report

SECTION = re.compile(
    r'<section class="tbl[^"]*" id="([^"]+)" data-status="([^"]+)" data-name="([^"]+)">(.*?)</section>',
    re.DOTALL,
)


@dataclass(frozen=True)
class Drifted:
    folder: Path
    drifts: dict[str, Drift]
    page: str

    @property
    def output(self) -> Path:
        return self.folder / "output"

    def alignment(self) -> dict[str, Any]:
        return json.loads((self.output / ALIGNMENT_JSON).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def drifted(tmp_path_factory: pytest.TempPathFactory) -> Drifted:
    folder = tmp_path_factory.mktemp("report") / "d"
    result = run_demo(folder, 3000, drift=True)
    path = write_report(load_project(folder / "config_meta.cfg"))
    return Drifted(folder, {d.kind: d for d in result.drifts}, path.read_text(encoding="utf-8"))


def sections(page: str) -> dict[str, tuple[str, str]]:
    """target table -> (status, section html), in page order."""
    found = {}
    for _, status, name, body in SECTION.findall(page):
        found[name.split()[-1]] = (status, body)
    return found


def copy_output(drifted: Drifted, tmp_path: Path) -> Path:
    target = tmp_path / "output"
    shutil.copytree(drifted.output, target)
    (target / REPORT_HTML).unlink()
    return target


def test_report_is_written_into_the_output_folder(drifted: Drifted) -> None:
    assert (drifted.output / REPORT_HTML).is_file()
    assert drifted.page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in drifted.page


def test_the_documented_calls_take_plain_strings(
    drifted: Drifted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/report.md's `write_report(load_project("config_meta.cfg"))` and
    `render_report(folder)`, run from the project folder as written there."""
    monkeypatch.chdir(drifted.folder)
    assert (
        write_report(load_project("config_meta.cfg"))
        .read_text(encoding="utf-8")
        .startswith("<!DOCTYPE html>")
    )
    copy_output(drifted, tmp_path)
    assert "Not signed off" in render_report(str(tmp_path / "output"))


def test_verdict_counts_the_tables_as_align_judged_them(drifted: Drifted) -> None:
    statuses = [t["status"] for t in drifted.alignment()["tables"]]
    equal, enabled = statuses.count("match"), len([s for s in statuses if s != "disabled"])
    assert 0 < equal < enabled  # the drifted demo has both
    verdict = drifted.page[drifted.page.index('id="verdict"') :].split("</section>", 1)[0]
    assert f"Not signed off: {enabled - equal} of {enabled} tables not proven equal" in verdict
    assert f"<li><b>{equal}</b>proven equal</li>" in verdict
    assert f"<li><b>{statuses.count('mismatch')}</b>not equal</li>" in verdict
    page_statuses = [status for status, _ in sections(drifted.page).values()]
    assert sorted(page_statuses) == sorted(statuses)


def test_tables_are_listed_worst_first(drifted: Drifted) -> None:
    order = [status for status, _ in sections(drifted.page).values()]
    ranks = [STATUS_ORDER.index(s) for s in order]
    assert ranks == sorted(ranks)
    assert order[0] == "mismatch" and order[-1] == "match"
    # Of the two mismatching tables, the one failing more levels (transactions) comes first.
    assert next(iter(sections(drifted.page))) == "transactions"


def test_the_removed_rows_period_is_excluded_and_marked_on_the_chart(drifted: Drifted) -> None:
    removed = drifted.drifts["rows_removed"]
    status, body = sections(drifted.page)["transactions"]
    assert status == "mismatch"
    excluded = body[body.index("Excluded from the value comparison") :]
    assert f"<code>{removed.period}</code>" in excluded
    chart = body[body.index("<svg") : body.index("</svg>")]
    marked = re.findall(rf'<text [^>]*fill="{MISMATCH_FILL}">([^<]+)</text>', chart)
    assert marked == [removed.period]
    for key in removed.keys:
        assert f'txn_id</span>=<code class="v">{key}</code>' in body


def test_the_changed_amount_is_shown_with_its_key_and_both_values(drifted: Drifted) -> None:
    changed = drifted.drifts["value_changed"]
    _, body = sections(drifted.page)["transactions"]
    [key] = changed.keys
    row = next(r for r in body.split("<tr>") if f'txn_id</span>=<code class="v">{key}</code>' in r)
    alignment = {t["target_table"]: t for t in drifted.alignment()["tables"]}
    [amount] = alignment["transactions"]["columns_excluded"]
    [sample] = amount["localized"]["samples"]
    values = sample["columns"][0]
    assert "<code>amount</code>" in row
    assert f'<code class="v">{values["source"]}</code>' in row
    assert f'<code class="v">{values["target"]}</code>' in row
    assert values["source"] != values["target"]


def test_the_nulled_email_column_is_excluded_highlighted_and_sampled(drifted: Drifted) -> None:
    nulled = drifted.drifts["column_nulled"]
    status, body = sections(drifted.page)["customers"]
    assert status == "mismatch"
    stats = json.loads(
        (drifted.output / stats_comparison_name("customers")).read_text(encoding="utf-8")
    )
    email = next(c for c in stats["columns"] if c["column"] == nulled.column)
    rows = body.split("<tr")
    email_rows = [r for r in rows if f"<code>{nulled.column}</code>" in r and "differs" in r]
    assert len(email_rows) == 1
    highlighted = re.findall(r'<td class="st-(\w+) \w+ diff">', "".join(rows))
    # Both sides of every differing statistic, and nothing else in the table.
    assert sorted(highlighted) == sorted(email["differences"] * 2)
    samples = body[body.index("Sample differences") :]
    assert samples.count('<span class="null"') >= 1
    assert samples.count(f"<code>{nulled.column}</code>") == samples.count('<span class="null"')


def test_matching_table_shows_every_level_passed(drifted: Drifted) -> None:
    status, body = sections(drifted.page)["accounts"]
    assert status == "match"
    header = body.split("</header>", 1)[0]
    assert header.count('class="lvl pass"') == 4
    assert "No differences sampled." in body


def test_page_references_nothing_outside_itself(drifted: Drifted) -> None:
    page = drifted.page
    assert "http://" not in page and "https://" not in page
    for marker in ("<link", "@import", "url(", "<iframe", "<img", "<object", "<embed", " src="):
        assert marker not in page, marker
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    hrefs = re.findall(r'\bhref="([^"]*)"', page)
    assert hrefs, "the index links to the tables"
    assert all(h.startswith("#") and h[1:] in ids for h in hrefs), hrefs
    assert page.count("<script>") == 1 and page.count("<style>") == 1


def test_every_value_is_escaped(drifted: Drifted, tmp_path: Path) -> None:
    output = copy_output(drifted, tmp_path)
    attack = '<script>alert("x")</script>'
    alignment = json.loads((output / ALIGNMENT_JSON).read_text(encoding="utf-8"))
    customers = next(t for t in alignment["tables"] if t["target_table"] == "customers")
    customers["columns_excluded"][0]["localized"]["samples"][0]["columns"][0]["source"] = attack
    customers["mismatches"].append(attack)
    customers["key_columns"] = ['"><img src=x onerror=alert(1)>']
    (output / ALIGNMENT_JSON).write_text(json.dumps(alignment), encoding="utf-8")
    stats_path = output / stats_comparison_name("accounts")
    stats = json.loads(stats_path.read_text(encoding="utf-8"))
    stats["columns"][0]["source"]["min"] = "<b onmouseover=alert(2)>x</b>"
    stats["source_table"] = "main.<i>accounts</i>"
    stats_path.write_text(json.dumps(stats), encoding="utf-8")

    page = render_report(output)

    assert page.count("<script") == 1  # the page's own script only
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;b onmouseover=alert(2)&gt;x&lt;/b&gt;" in page
    assert "<b onmouseover" not in page and "<img" not in page and "<i>" not in page


def test_columns_compared_as_converted_are_named_beside_the_precision(
    drifted: Drifted, tmp_path: Path
) -> None:
    output = copy_output(drifted, tmp_path)
    alignment = json.loads((output / ALIGNMENT_JSON).read_text(encoding="utf-8"))
    accounts = next(t for t in alignment["tables"] if t["target_table"] == "accounts")
    accounts["precision"]["conversions"] = {"RATE": "FLOAT(126) holds up to 38 digits; <kept>"}
    (output / ALIGNMENT_JSON).write_text(json.dumps(alignment), encoding="utf-8")
    _, body = sections(render_report(output))["accounts"]
    assert (
        "compared as the lake keeps them: RATE (FLOAT(126) holds up to 38 digits; &lt;kept&gt;)"
        in body
    )
    assert "conversions" not in body
    assert "precision proven: timestamp microsecond" in body


def test_unicode_values_render_as_themselves(drifted: Drifted, tmp_path: Path) -> None:
    output = copy_output(drifted, tmp_path)
    stats_path = output / stats_comparison_name("accounts")
    stats = json.loads(stats_path.read_text(encoding="utf-8"))
    stats["columns"][0]["source"]["max"] = "Zürich 東京 🚀"
    stats_path.write_text(json.dumps(stats, ensure_ascii=False), encoding="utf-8")
    page = render_report(output)
    assert '<code class="v">Zürich 東京 🚀</code>' in page
    # The demo's own non-ASCII data reaches the page unchanged too.
    assert "東京" in drifted.page or "Zürich" in drifted.page


def test_skipped_and_disabled_tables_are_counted_with_their_reasons(
    drifted: Drifted, tmp_path: Path
) -> None:
    output = copy_output(drifted, tmp_path)
    alignment = json.loads((output / ALIGNMENT_JSON).read_text(encoding="utf-8"))
    missing = "table does not exist in the source"
    alignment["tables"] += [
        {"source_table": f"main.{n}", "target_table": n, "status": "skipped", "reason": missing}
        for n in ("ghost_a", "ghost_b")
    ]
    alignment["tables"].append(
        {"source_table": "main.old", "target_table": "old", "status": "disabled", "reason": "off"}
    )
    (output / ALIGNMENT_JSON).write_text(json.dumps(alignment), encoding="utf-8")
    statuses = [t["status"] for t in alignment["tables"]]
    enabled = len(statuses) - statuses.count("disabled")

    page = render_report(output)

    not_equal = enabled - statuses.count("match")
    assert f"Not signed off: {not_equal} of {enabled} tables not proven equal" in page
    groups = page[page.index('<ul class="groups">') :].split("</ul>", 1)[0]
    line = next(li for li in groups.split("<li>") if missing in li)
    assert line.startswith(f"2 skipped ({missing}): ")
    assert "main.ghost_a" in line and "main.ghost_b" in line
    order = [status for status, _ in sections(page).values()]
    assert order[-1] == "disabled"
    assert order.index("skipped") > order.index("mismatch")


def test_missing_artifacts_are_shown_as_not_run(drifted: Drifted, tmp_path: Path) -> None:
    output = copy_output(drifted, tmp_path)
    (output / ALIGNMENT_JSON).unlink()
    for path in output.glob(stats_comparison_name("*")):
        path.unlink()
    page = render_report(output)
    found = sections(page)
    assert set(found) == {"customers", "accounts", "transactions"}
    assert {status for status, _ in found.values()} == {"not_run"}
    assert "compare and align have not run for this table" in page
    assert "Not signed off: 3 of 3 tables not proven equal" in page
    assert re.search(
        r"<code>data_alignment_results\.json</code></td><td><span [^>]*>not run<", page
    )


def test_an_empty_output_folder_still_renders(tmp_path: Path) -> None:
    page = render_report(tmp_path)
    assert "No tables to verify" in page
    assert page.count(">not run<") == 4  # analyze, upload, compare, align


def test_a_project_before_any_step_lists_its_inventory_as_not_run(demo_folder: Path) -> None:
    project = load_project(demo_folder / "config_meta.cfg")
    page = write_report(project).read_text(encoding="utf-8")
    found = sections(page)
    assert set(found) == {spec.target_table for spec in project.tables}
    assert {status for status, _ in found.values()} == {"not_run"}
    assert "not uploaded yet" in page


def test_an_unreadable_artifact_is_named_not_fatal(drifted: Drifted, tmp_path: Path) -> None:
    output = copy_output(drifted, tmp_path)
    (output / ALIGNMENT_JSON).write_text("{ not json", encoding="utf-8")
    page = render_report(output)
    assert re.search(
        r"<code>data_alignment_results\.json</code></td><td><span [^>]*>unreadable<", page
    )
    # Compare's findings still condemn the drifted tables without align.
    assert sections(page)["customers"][0] == "mismatch"


def test_a_failed_upload_is_a_failure_with_its_reason() -> None:
    attempt = ({"batch_id": "b1"}, {"status": "failed", "reason": "ORA-01555: snapshot too old"})
    skipped = {"status": "skipped", "reason": "no successful upload recorded; run upload"}
    status, reason = table_status(TableArtifacts(attempt=attempt, align=skipped))
    assert status == "error"
    assert "ORA-01555" in reason


@pytest.mark.parametrize("verdict", ["match", "mismatch"])
def test_align_results_of_an_earlier_batch_prove_nothing(verdict: str) -> None:
    """A later upload replaced what align read: the table is not verified, so the report
    cannot sign it off (it said "match" before, naming the stale batch only in a note)."""
    upload = ({"batch_id": "b2"}, {"status": "uploaded"})
    align = {"status": verdict, "batch_id": "b1"}
    status, reason = table_status(TableArtifacts(upload=upload, attempt=upload, align=align))
    assert status == "not_run"
    assert "batch b1" in reason and "batch b2" in reason
    current = {"status": verdict, "batch_id": "b2"}
    assert table_status(TableArtifacts(upload=upload, attempt=upload, align=current))[0] == verdict


def test_a_match_before_a_failed_upload_is_not_signed_off() -> None:
    """A failed upload may have registered some of its slices: readers see rows align never
    read, so its earlier match proves nothing about the lake now."""
    upload = ({"batch_id": "b1"}, {"status": "uploaded"})
    failed = ({"batch_id": "b2"}, {"status": "failed", "reason": "v: 'x' is not an integer"})
    align = {"status": "match", "batch_id": "b1"}
    status, reason = table_status(TableArtifacts(upload=upload, attempt=failed, align=align))
    assert status == "error"
    assert "upload failed: v: 'x' is not an integer" in reason and "batch b1" in reason
    assert table_status(TableArtifacts(upload=upload, attempt=upload, align=align))[0] == "match"


def test_a_compare_mismatch_since_align_s_match_is_not_signed_off() -> None:
    """The lake lost a row after align's match, and compare (run again, same batch) saw it:
    the report said "Signed off" with compare's mismatch listed under it."""
    upload = ({"batch_id": "b1"}, {"status": "uploaded"})
    levels = {"schema": True, "counts": True, "statistics": True, "values": True}
    align = {"status": "match", "batch_id": "b1", "levels": levels}
    stats = {
        "status": "mismatch",
        "batch_id": "b1",
        "created_at": "2026-12-05T10:00:00+00:00",
        "mismatches": ["row count differs: source 40, lake 39"],
        "rows": {"source": 40, "target": 39},
        "columns": [{"column": "id", "match": True}],
    }
    found = TableArtifacts(
        upload=upload,
        attempt=upload,
        stats=stats,
        align=align,
        aligned_at="2026-12-05T09:00:00+00:00",
    )
    status, reason = table_status(found)
    assert status == "mismatch"
    assert "source 40, lake 39" in reason and "rerun align" in reason
    states = {level.name: (level.state, level.step) for level in table_levels(found)}
    assert states["counts"] == ("fail", "compare")
    assert states["statistics"] == ("pass", "align")
    # a time written without a zone (by hand) is read as UTC
    naive = TableArtifacts(
        upload=upload, attempt=upload, stats=stats, align=align, aligned_at="2026-12-05T09:00:00"
    )
    assert table_status(naive)[0] == "mismatch"
    # a schema problem compare found fails the schema level
    missing = {**stats, "rows": {"source": 40, "target": 40}, "columns_missing_in_lake": ["v"]}
    found = TableArtifacts(
        upload=upload, attempt=upload, stats=missing, align=align, aligned_at="2026-12-05T09:00:00"
    )
    states = {level.name: level.state for level in table_levels(found)}
    assert (states["schema"], states["counts"]) == ("fail", "pass")
    # compare's mismatch before align's match (the lake mended since), a compare of another
    # batch, or runs whose times are not recorded leave align's verdict
    for aligned_at, batch, compared_at in (
        ("2026-12-05T11:00:00+00:00", "b1", stats["created_at"]),
        ("2026-12-05T09:00:00+00:00", "b0", stats["created_at"]),
        (None, "b1", stats["created_at"]),
        ("2026-12-05T09:00:00+00:00", "b1", None),
    ):
        earlier = {**stats, "batch_id": batch, "created_at": compared_at}
        found = TableArtifacts(
            upload=upload, attempt=upload, stats=earlier, align=align, aligned_at=aligned_at
        )
        assert table_status(found)[0] == "match"
        assert all(level.state == "pass" for level in table_levels(found))


def test_the_report_reads_when_compare_and_align_ran(drifted: Drifted, tmp_path: Path) -> None:
    """Both steps record their start; a compare run after align that finds the lake changed
    turns the matching table's verdict."""
    output = copy_output(drifted, tmp_path)
    stats_path = output / stats_comparison_name("accounts")
    stats = json.loads(stats_path.read_text(encoding="utf-8"))
    alignment = json.loads((output / ALIGNMENT_JSON).read_text(encoding="utf-8"))
    assert stats["created_at"] < alignment["created_at"]
    assert sections(render_report(output))["accounts"][0] == "match"
    stats.update(
        status="mismatch",
        created_at="2999-01-01T00:00:00+00:00",
        mismatches=["row count differs: source 6, lake 5"],
    )
    stats_path.write_text(json.dumps(stats), encoding="utf-8")
    status, body = sections(render_report(output))["accounts"]
    assert status == "mismatch"
    assert "source 6, lake 5" in body


def test_chart_marks_only_the_mismatching_periods() -> None:
    periods = [
        PeriodCount("2024-01", 400, 400, False),
        PeriodCount("2024-02", 447, 444, True),
        PeriodCount(None, 3, 3, False),
    ]
    svg = period_chart(periods)
    assert svg.count(f'fill="{BAND_FILL}"') == 1
    assert svg.count("(counts differ)") == 1
    assert "2024-02: source 447, lake 444 (counts differ)" in svg
    assert "(no date)" in svg
    assert period_chart([]) == ""


@pytest.mark.parametrize("highest", [0, 1, 3, 447, 1000, 123_456_789])
def test_chart_ticks_start_at_zero_and_cover_the_highest_count(highest: int) -> None:
    ticks = nice_ticks(highest)
    assert ticks[0] == 0 and ticks[-1] >= highest
    steps = {b - a for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1 and len(ticks) <= 7
