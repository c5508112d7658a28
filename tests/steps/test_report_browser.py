"""report.html of a drifted demo in a real browser (headless Chromium): the script runs, the
verdict and the injected differences are in the rendered page, the filter works from the address,
printing keeps every table, and a screenshot is saved for a person to look at.

Skips only when no Chromium is installed and LAKESHIFT_REQUIRE_SERVICES is not "1".
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from lakeshift.artifacts import ALIGNMENT_JSON
from lakeshift.demo.drift import Drift
from lakeshift.demo.runner import run_demo
from lakeshift.project import load_project
from lakeshift.steps.report import write_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WINDOW = (1280, 2000)
PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


@dataclass(frozen=True)
class Browser:
    binary: str
    profile: Path

    def run(self, url: str, *options: str) -> str:
        command = [
            self.binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={self.profile}",
            *options,
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Browser:
    binary = next((path for path in map(shutil.which, BROWSERS) if path), None)
    if binary is None:
        reason = "no Chromium on PATH; install it with `apt-get install -y chromium`"
        if os.environ.get("LAKESHIFT_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (LAKESHIFT_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    return Browser(binary, tmp_path_factory.mktemp("chromium-profile"))


@dataclass(frozen=True)
class Rendered:
    url: str
    drifts: dict[str, Drift]
    statuses: list[str]  # align's verdicts, from its artifact


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    folder = tmp_path_factory.mktemp("browser") / "d"
    result = run_demo(folder, 3000, drift=True)
    path = write_report(load_project(folder / "config_meta.cfg"))
    alignment = json.loads((path.parent / ALIGNMENT_JSON).read_text(encoding="utf-8"))
    statuses = [t["status"] for t in alignment["tables"]]
    return Rendered(path.resolve().as_uri(), {d.kind: d for d in result.drifts}, statuses)


def text_of(dom: str) -> str:
    """The DOM's text with tags removed and whitespace collapsed (entities left as they are)."""
    return " ".join(re.sub(r"<[^>]+>", " ", dom).split())


def test_rendered_page_shows_the_verdict_and_the_injected_differences(
    browser: Browser, report: Rendered
) -> None:
    dom = browser.run(report.url, "--dump-dom")
    assert re.search(r'<html lang="en" class="js">', dom), "the page's script did not run"
    text = text_of(dom)
    drifted_tables = {d.table for d in report.drifts.values()}
    assert report.statuses.count("mismatch") == len(drifted_tables)
    total = len(report.statuses)
    assert f"Not signed off: {len(drifted_tables)} of {total} tables not proven equal" in text
    removed = report.drifts["rows_removed"]
    assert f"period {removed.period} row missing in the lake {removed.period}" in text
    for key in removed.keys:
        assert f"txn_id = {key} (whole row) row present absent" in text
    [changed_key] = report.drifts["value_changed"].keys
    assert re.search(rf"value changed \S+ txn_id = {changed_key} amount -?[\d.]+ -?[\d.]+", text)
    nulled = report.drifts["column_nulled"].column
    assert re.search(
        rf"column {nulled} value changed \S+ customer_id = \d+ {nulled} \S+ NULL", text
    )


def test_filter_in_the_address_hides_the_other_tables(browser: Browser, report: Rendered) -> None:
    dom = browser.run(f"{report.url}?status=match", "--dump-dom")
    shown = re.findall(
        r'<section class="tbl[^"]*"[^>]* data-status="(\w+)"[^>]*?(hidden="")?>', dom
    )
    expected = [(s, "" if s == "match" else 'hidden=""') for s in report.statuses]
    assert sorted(shown) == sorted(expected)
    assert ("match", "") in shown


def test_printing_keeps_every_table_whatever_the_filter(
    browser: Browser, report: Rendered, tmp_path: Path
) -> None:
    pages = []
    for name, url in (("all", report.url), ("filtered", f"{report.url}?status=match")):
        pdf = tmp_path / f"{name}.pdf"
        browser.run(url, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
        content = pdf.read_bytes()
        assert content.startswith(b"%PDF")
        pages.append(len(PDF_PAGE.findall(content)))
    assert pages[0] > 1
    assert pages[0] == pages[1]


def test_screenshot_of_the_report(browser: Browser, report: Rendered, tmp_path: Path) -> None:
    screenshot = tmp_path / "report.png"
    browser.run(report.url, f"--screenshot={screenshot}", f"--window-size={WINDOW[0]},{WINDOW[1]}")
    content = screenshot.read_bytes()
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", content[16:24]) == WINDOW
    assert len(content) > 50_000, "a blank page compresses to a few kilobytes"
    print(f"screenshot: {screenshot}")
