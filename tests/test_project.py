"""Where `upload` finds its analysis and config_meta.cfg (`project.upload_inputs`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lakeshift.artifacts import ANALYSIS_PICKLE, write_pickle
from lakeshift.errors import ConfigError
from lakeshift.project import load_project, upload_inputs

META = '[input]\ntable = "t.csv"\n\n[output]\nfolder = "{folder}"\n'


def _project(folder: Path, output: str = "output/") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    meta = folder / "config_meta.cfg"
    meta.write_text(META.format(folder=output), encoding="utf-8")
    return meta


def _analyze(meta: Path, output: str = "output") -> Path:
    """An analysis as `analyze` writes it: in the output folder, naming its config both ways."""
    folder = meta.parent / output
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ANALYSIS_PICKLE
    content = {
        "config_meta": str(meta.resolve()),
        "config_meta_relative": os.path.relpath(meta.resolve(), folder.resolve()),  # as analyze
        "tables": [],
    }
    write_pickle(path, content)
    return path


def test_the_analysis_is_found_in_the_output_folder_the_config_here_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meta = _project(tmp_path / "a", "out/")
    analysis = _analyze(meta, "out")
    monkeypatch.chdir(meta.parent)
    for given in (None, Path(ANALYSIS_PICKLE)):  # the original scripts' bare name too
        found_meta, found = upload_inputs(None, given)
        assert found.resolve() == analysis.resolve() and found_meta.resolve() == meta.resolve()


def test_a_copied_project_uses_its_own_config(tmp_path: Path) -> None:
    meta = _project(tmp_path / "a")
    _analyze(meta)
    copy = tmp_path / "copy"
    (copy / "output").mkdir(parents=True)
    (copy / "config_meta.cfg").write_text(meta.read_text(encoding="utf-8"), encoding="utf-8")
    (copy / "output" / ANALYSIS_PICKLE).write_bytes(
        (meta.parent / "output" / ANALYSIS_PICKLE).read_bytes()
    )
    found_meta, _ = upload_inputs(None, copy / "output" / ANALYSIS_PICKLE)
    assert found_meta.resolve() == (copy / "config_meta.cfg").resolve()


def test_an_analysis_moved_out_of_its_output_folder_keeps_its_recorded_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept beside the config (as the original scripts did), the relative path would reach the
    parent folder's config: it is used only where that config's output folder holds it."""
    _project(tmp_path)  # a parent folder with a config of its own
    meta = _project(tmp_path / "a")
    analysis = _analyze(meta)
    moved = meta.parent / ANALYSIS_PICKLE
    analysis.rename(moved)
    monkeypatch.chdir(meta.parent)
    found_meta, found = upload_inputs(None, Path(ANALYSIS_PICKLE))
    assert found_meta.resolve() == meta.resolve() and found.resolve() == moved.resolve()


def test_an_explicit_config_never_takes_another_projects_analysis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = _project(tmp_path / "a")
    _analyze(here)
    other = _project(tmp_path / "b")  # not analyzed yet
    monkeypatch.chdir(here.parent)
    for given in (other, other.parent):  # the file, or its folder
        with pytest.raises(ConfigError, match="analysis output not found"):
            upload_inputs(given, None)
    analysis = _analyze(other)
    found_meta, found = upload_inputs(other.parent, None)
    assert found_meta.resolve() == other.resolve() and found.resolve() == analysis.resolve()


def test_a_copied_project_whose_output_folder_is_a_link_uses_its_own_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The config here names the folder the analysis is in: that is this project, whatever
    the analysis recorded (a link's target folder holds no config beside it)."""
    for name in ("p1", "p2"):
        (tmp_path / "data" / name).mkdir(parents=True)
        _project(tmp_path / name)
        (tmp_path / name / "output").symlink_to(tmp_path / "data" / name)
    analysis = _analyze(tmp_path / "p1" / "config_meta.cfg")
    copied = tmp_path / "data" / "p2" / ANALYSIS_PICKLE
    copied.write_bytes(analysis.read_bytes())
    monkeypatch.chdir(tmp_path / "p2")
    found_meta, found = upload_inputs(None, None)
    assert found_meta.resolve() == (tmp_path / "p2" / "config_meta.cfg").resolve()
    assert found.resolve() == copied.resolve()


def _no_folder(project: Path, path: str) -> None:
    """Where no folder can be: a relative `path` is made a file, an absolute one is in /proc."""
    if not Path(path).is_absolute():
        (project / path).write_text("taken", encoding="utf-8")


@pytest.mark.parametrize("folder", ["taken", "/proc/forbidden"])
def test_an_output_folder_that_cannot_be_one_names_the_config_key_and_path(
    make_project, folder: str
) -> None:
    meta = make_project("sqlite:///source.db", [{"source_table": "main.t"}])
    text = meta.read_text(encoding="utf-8").replace('"output/"', f'"{folder}"')
    meta.write_text(text, encoding="utf-8")
    _no_folder(meta.parent, folder)
    with pytest.raises(ConfigError) as caught:
        load_project(meta)
    assert (caught.value.file, caught.value.where) == (str(meta), "[output] folder")
    assert str(meta.parent / folder) in str(caught.value)
    assert "name a folder that can be created and written" in str(caught.value)


def test_a_lake_that_is_a_file_names_the_config_key_and_path(make_project) -> None:
    meta = make_project("sqlite:///source.db", [{"source_table": "main.t"}], lake="source.db")
    _no_folder(meta.parent, "source.db")
    with pytest.raises(ConfigError) as caught:
        load_project(meta)
    migration = meta.parent / "migration_config.cfg"
    assert (caught.value.file, caught.value.where) == (str(migration), "lake")
    assert str(meta.parent / "source.db") in str(caught.value)


def test_a_lake_that_cannot_be_made_fails_the_steps_that_open_it_not_the_report(
    make_project,
) -> None:
    """The lake is made where it is opened: `report` reads the output folder only, maybe on a
    machine that does not see the lake (an unmounted share), and still works."""
    from lakeshift.engines.connect import open_lake
    from lakeshift.steps.report import write_report

    meta = make_project("sqlite:///source.db", [{"source_table": "main.t"}], lake="/proc/nolake")
    project = load_project(meta)
    assert project.meta.output.folder.is_dir()
    assert write_report(project).is_file()
    with pytest.raises(ConfigError) as caught:
        open_lake(project.migration)
    assert (caught.value.file, caught.value.where) == (str(project.migration_path), "lake")
    assert "/proc/nolake cannot be created" in str(caught.value)
    # the file given with --config is the one named, not the usual name
    other = meta.parent / "prod_upload.json"
    project.migration_path.rename(other)
    with pytest.raises(ConfigError) as caught:
        open_lake(load_project(meta, other).migration)
    assert caught.value.file == str(other)
