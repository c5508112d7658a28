"""The README's commands work as written: the quick start and the steps one by one."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def block(name: str) -> list[str]:
    match = re.search(rf"<!-- readme-test: {name} -->\s*```bash\n(.*?)```", README, re.DOTALL)
    assert match, f"README has no tested block {name!r}"
    return [line for line in match.group(1).splitlines() if line.strip()]


def test_the_quick_start_is_two_commands_installing_then_running() -> None:
    install_and_demo, install_and_test = block("quickstart")
    assert install_and_demo == "pip install -e . && lakeshift demo"
    assert install_and_test == "scripts/system-packages && pip install -e '.[test]' && pytest"
    assert (ROOT / "scripts" / "system-packages").stat().st_mode & 0o111, "it must be executable"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert "test" in extras


@pytest.mark.slow
def test_the_readme_commands_run_from_a_fresh_folder(tmp_path: Path) -> None:
    assert shutil.which("lakeshift"), (
        "the README's commands need lakeshift installed (pip install -e .)"
    )
    demo = block("quickstart")[0].split("&&")[1].strip()
    result = subprocess.run(
        demo, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all tables passed" in result.stdout
    script = "set -e\n" + "\n".join(block("steps"))
    result = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("all tables passed") == 4
    assert (tmp_path / "lakeshift-demo" / "output" / "report.html").is_file()


def test_the_config_meta_example_reads_as_written(tmp_path: Path) -> None:
    """Inline `# ...` comments after a value broke it: confection keeps them in the value."""
    from lakeshift.config import load_meta_config

    match = re.search(r"### `config_meta.cfg`.*?```ini\n(.*?)```", README, re.DOTALL)
    assert match, "README has no config_meta.cfg example"
    path = tmp_path / "config_meta.cfg"
    path.write_text(match.group(1), encoding="utf-8")
    meta = load_meta_config(path)
    assert meta.input.table == tmp_path / "input_tables.xlsx"
    assert (meta.verify.buckets, meta.verify.max_samples) == (1, 20)
