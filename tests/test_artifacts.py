"""Artifacts in the output folder: versioned, atomic, redacted, and safe to read back."""

from __future__ import annotations

import json
import os
import pickle
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakeshift.artifacts import (
    SCHEMA_VERSION,
    new_upload_metadata_path,
    read_analysis,
    read_json,
    read_pickle,
    upload_metadata_name,
    uploads_by_table,
    write_json,
    write_pickle,
)
from lakeshift.errors import ConfigError
from lakeshift.redaction import MASK, register_secret

ANALYSIS = {
    "step": "analyze",
    "config_meta": "/data/config_meta.cfg",
    "finished_at": datetime(2025, 6, 3, 14, 30, 15, tzinfo=UTC),
    "output": Path("/data/output"),
    "tables": [
        {"source_table": "HR.EMPLOYEES", "rows": 1200, "columns": ["ID", "NAME"], "ratio": 0.5},
        {"source_table": "HR.EMPTY", "rows": 0, "columns": [], "note": None, "ok": True},
    ],
}


def _secret() -> str:
    return f"pw-{uuid.uuid4().hex[:12]}"


def test_json_artifact_carries_the_schema_version(tmp_path: Path) -> None:
    path = write_json(tmp_path / "out" / "migration_analysis.json", ANALYSIS)

    content = json.loads(path.read_text(encoding="utf-8"))

    assert content["schema_version"] == SCHEMA_VERSION
    assert content["finished_at"] == "2025-06-03T14:30:15+00:00"
    assert content["output"] == "/data/output"
    assert content["tables"] == ANALYSIS["tables"]
    assert read_json(path) == content


def test_json_artifact_replaces_the_old_file_only_when_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_json(tmp_path / "a.json", {"version": "old"})

    def crash(self: Path, target: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_json(path, {"version": "new"})

    assert read_json(path)["version"] == "old"


def test_json_artifact_leaves_no_temporary_file(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {"x": 1})
    write_json(tmp_path / "a.json", {"x": 2})
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    assert read_json(tmp_path / "a.json")["x"] == 2


def test_json_artifact_refuses_values_it_cannot_write(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="object"):
        write_json(tmp_path / "a.json", {"x": object()})


def test_registered_secrets_are_redacted_in_values_and_lists(tmp_path: Path) -> None:
    secret = _secret()
    register_secret(secret)
    content = {"reason": f"login {secret} refused", "lines": [f"x{secret}x"], "n": 1}

    text = write_json(tmp_path / "a.json", content).read_text(encoding="utf-8")

    assert secret not in text
    assert json.loads(text) == {
        "schema_version": SCHEMA_VERSION,
        "reason": f"login {MASK} refused",
        "lines": [f"x{MASK}x"],
        "n": 1,
    }


def test_names_later_steps_read_back_are_not_masked_by_a_password_that_is_a_word(
    tmp_path: Path,
) -> None:
    """A password that is also a table's name ("items") masked the analysis' source_table, and
    upload then skipped the table as not analyzed. Names, paths and keys are kept; free text
    around them is still masked."""
    secret = "items" + uuid.uuid4().hex[:6]
    register_secret(secret)
    table = {
        "source_table": f"shop.{secret}",
        "target_table": secret,
        "columns_compared": [secret, "id"],
        "changed_by_column": {secret: 2},
        "reason": f"{secret}: login {secret} refused",
    }
    content = {"config_meta": f"/p/{secret}/config_meta.cfg", "tables": [table]}

    for read in (
        read_json(write_json(tmp_path / "a.json", content)),
        read_pickle(write_pickle(tmp_path / "a.pkl", content)),
    ):
        [back] = read["tables"]
        assert read["config_meta"] == content["config_meta"]
        assert {k: back[k] for k in table if k != "reason"} == {
            k: v for k, v in table.items() if k != "reason"
        }
        assert back["reason"] == f"{MASK}: login {MASK} refused"


def test_data_under_a_column_named_like_a_name_field_is_still_masked(tmp_path: Path) -> None:
    """A sample's key maps the table's own column names to values: a key column called
    `database` or `period` kept its value unmasked, the password included."""
    secret = _secret()
    register_secret(secret)
    sample = {
        "kind": "changed",
        "period": "2024-01",
        "key": {"database": secret, "period": f"x{secret}"},
        "columns": [{"column": "note", "source": secret, "target": "b"}],
    }
    stats = {"column": "database", "source": {"min": secret, "max": "z"}}
    content = {
        "tables": [{"values": {"samples": [sample]}, "columns": [stats], 7: secret}],
        "precision": {"conversions": {"database": f"cut {secret}"}},
    }
    text = write_json(tmp_path / "a.json", content).read_text(encoding="utf-8")
    assert secret not in text
    back = json.loads(text)["tables"][0]
    assert back["values"]["samples"][0]["key"] == {"database": MASK, "period": f"x{MASK}"}
    assert back["values"]["samples"][0]["period"] == "2024-01"
    assert back["columns"][0]["column"] == "database"


def test_a_secret_json_would_escape_is_still_redacted(tmp_path: Path) -> None:
    secret = 'p"q\\r' + uuid.uuid4().hex[:8]
    register_secret(secret)

    path = write_json(tmp_path / "a.json", {"reason": f"bad {secret}"})

    assert read_json(path)["reason"] == f"bad {MASK}"


def test_a_numeric_secret_does_not_corrupt_counts(tmp_path: Path) -> None:
    secret = str(random.Random(uuid.uuid4().int).randrange(10**11, 10**12))
    register_secret(secret)
    rows = int("7" + secret + "7")

    json_path = write_json(tmp_path / "a.json", {"rows": rows, "note": f"pin {secret}"})
    pickle_path = write_pickle(tmp_path / "a.pkl", {"rows": rows, "note": f"pin {secret}"})

    for content in (read_json(json_path), read_pickle(pickle_path)):
        assert content["rows"] == rows
        assert content["note"] == f"pin {MASK}"


def test_url_passwords_are_redacted_without_registration(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "a.json", {"source": "oracle://scott:tiger@db:1521/?service_name=X"}
    )
    assert read_json(path)["source"] == "oracle://scott:***@db:1521/?service_name=X"


def test_reading_a_missing_artifact_says_which_step_to_run(tmp_path: Path) -> None:
    path = tmp_path / "data_alignment_results.json"
    with pytest.raises(ConfigError, match="run the step") as caught:
        read_json(path)
    assert caught.value.file == str(path)


def test_reading_malformed_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"schema_version": 1,\n"x": }\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_json(path)
    assert caught.value.where == "line 2"


@pytest.mark.parametrize("content", ['{"x": 1}', '{"schema_version": 99}', "[1]"])
def test_json_without_our_schema_version_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "a.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match="schema_version"):
        read_json(path)


# migration_analysis.pkl


def test_our_pickle_reads_back_as_the_json_content(tmp_path: Path) -> None:
    json_path = write_json(tmp_path / "migration_analysis.json", ANALYSIS)
    pickle_path = write_pickle(tmp_path / "migration_analysis.pkl", ANALYSIS)

    assert read_pickle(pickle_path) == read_json(json_path)
    assert read_analysis(pickle_path) == read_analysis(json_path)


class _RunsACommand:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_would_run_a_command_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    payload = pickle.dumps({"schema_version": SCHEMA_VERSION, "x": _RunsACommand(marker)})
    proof = tmp_path / "proof"
    pickle.loads(pickle.dumps(_RunsACommand(proof)))  # the payload is live with a plain loader
    assert proof.exists()
    path = tmp_path / "migration_analysis.pkl"
    path.write_bytes(payload)

    with pytest.raises(ConfigError, match="refusing to load") as caught:
        read_pickle(path)

    assert "system" in str(caught.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    "value",
    [datetime(2025, 1, 1), Path("/etc/passwd"), {1, 2}, uuid.UUID(int=1)],
    ids=["datetime", "path", "set", "uuid"],
)
def test_a_pickle_referencing_any_class_is_refused(tmp_path: Path, value: object) -> None:
    path = tmp_path / "migration_analysis.pkl"
    path.write_bytes(pickle.dumps({"schema_version": SCHEMA_VERSION, "x": value}, protocol=2))
    with pytest.raises(ConfigError, match="refusing to load"):
        read_pickle(path)


def test_every_truncation_of_our_pickle_is_a_config_error(tmp_path: Path) -> None:
    data = write_pickle(tmp_path / "full.pkl", ANALYSIS).read_bytes()
    path = tmp_path / "migration_analysis.pkl"
    for length in range(len(data)):
        path.write_bytes(data[:length])
        with pytest.raises(ConfigError, match="rerun `lakeshift analyze`") as caught:
            read_pickle(path)
        assert caught.value.file == str(path)


@pytest.mark.parametrize(
    "data",
    [b"}]K\x01s.", b"]}b.", b"\x80\x05\x95"],
    ids=["unhashable-key", "state-on-a-list", "cut-frame"],
)
def test_a_pickle_that_breaks_the_loader_in_any_way_is_a_config_error(
    tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / "migration_analysis.pkl"
    path.write_bytes(data)
    with pytest.raises(ConfigError, match="not a lakeshift analysis pickle"):
        read_pickle(path)


# No deadline: what is read is the point, not how fast (a loaded machine passed 200 ms once,
# and hypothesis then replayed that example with its explain phase, 0.7 s, every run after).
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.data())
def test_a_damaged_pickle_is_a_config_error_or_plain_data(
    tmp_path: Path, data: st.DataObject
) -> None:
    original = bytearray(
        pickle.dumps(
            {"schema_version": SCHEMA_VERSION, **ANALYSIS, "finished_at": "x", "output": "y"}
        )
    )
    for _ in range(data.draw(st.integers(1, 4))):
        original[data.draw(st.integers(0, len(original) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / "damaged.pkl"
    path.write_bytes(bytes(original))
    try:
        content = read_pickle(path)
    except ConfigError:
        return
    assert content["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize("content", [[1, 2], {"tables": []}, {"schema_version": 2}])
def test_a_plain_pickle_that_is_not_our_analysis_is_refused(
    tmp_path: Path, content: object
) -> None:
    path = tmp_path / "migration_analysis.pkl"
    path.write_bytes(pickle.dumps(content))
    with pytest.raises(ConfigError, match="not a lakeshift analysis"):
        read_pickle(path)


def test_a_missing_pickle_says_to_run_analyze(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="lakeshift analyze"):
        read_pickle(tmp_path / "migration_analysis.pkl")


# upload metadata


MOMENT = datetime(2025, 6, 3, 14, 30, 15, 123456, tzinfo=UTC)


def _upload(folder: Path, moment: datetime, batch: str, tables: dict[str, str]) -> Path:
    entries = [{"target_table": name, "status": status} for name, status in tables.items()]
    return write_json(
        new_upload_metadata_path(folder, moment), {"batch_id": batch, "tables": entries}
    )


def test_upload_metadata_is_named_by_its_second() -> None:
    assert upload_metadata_name(MOMENT) == "upload_metadata_20250603_143015.json"


def test_two_uploads_in_one_second_keep_both_files(tmp_path: Path) -> None:
    first = _upload(tmp_path, MOMENT, "b1", {})
    second = new_upload_metadata_path(tmp_path, MOMENT)
    assert second != first
    assert second.name == "upload_metadata_20250603_143015_123456.json"


def test_latest_successful_upload_per_table_is_picked(tmp_path: Path) -> None:
    _upload(
        tmp_path, MOMENT, "b1", {"orders": "uploaded", "customers": "uploaded", "ghost": "failed"}
    )
    _upload(
        tmp_path, MOMENT + timedelta(hours=1), "b2", {"orders": "failed", "customers": "uploaded"}
    )
    _upload(
        tmp_path, MOMENT + timedelta(days=1), "b3", {"orders": "skipped", "accounts": "disabled"}
    )
    (tmp_path / "unrelated.json").write_text("{}", encoding="utf-8")

    latest = uploads_by_table(tmp_path)

    assert {table: metadata["batch_id"] for table, (metadata, _) in latest.items()} == {
        "orders": "b1",
        "customers": "b2",
    }
    assert latest["customers"][1] == {"target_table": "customers", "status": "uploaded"}


def test_an_upload_later_in_the_same_second_wins(tmp_path: Path) -> None:
    _upload(tmp_path, MOMENT, "first", {"orders": "uploaded"})
    _upload(tmp_path, MOMENT, "second", {"orders": "uploaded"})

    assert uploads_by_table(tmp_path)["orders"][0]["batch_id"] == "second"


def test_an_empty_output_folder_has_no_uploads(tmp_path: Path) -> None:
    assert uploads_by_table(tmp_path) == {}


def test_upload_metadata_the_earlier_scripts_wrote_is_skipped(tmp_path: Path) -> None:
    """The scripts before lakeshift wrote upload_metadata_{timestamp}.json into the same
    output folder: such a file is passed over (with a warning), not the end of every step."""
    (tmp_path / "upload_metadata_20250603_143015.json").write_text(
        json.dumps({"tables": [{"table": "orders", "rows": 10}]}), encoding="utf-8"
    )
    _upload(tmp_path, MOMENT, "b1", {"orders": "uploaded"})
    assert uploads_by_table(tmp_path)["orders"][0]["batch_id"] == "b1"


def test_an_analysis_pickle_is_known_by_its_suffix_in_any_case(tmp_path: Path) -> None:
    path = write_pickle(tmp_path / "migration_analysis.PKL", {"config_meta": "c.cfg", "tables": []})
    assert read_analysis(path)["config_meta"] == "c.cfg"


def test_an_analysis_without_its_config_meta_is_refused_by_name(tmp_path: Path) -> None:
    path = write_pickle(tmp_path / "migration_analysis.pkl", {"tables": []})
    with pytest.raises(ConfigError, match="without its config_meta") as caught:
        read_analysis(path)
    assert caught.value.file == str(path)


def test_a_pickle_named_json_is_a_clear_error(tmp_path: Path) -> None:
    path = write_pickle(tmp_path / "migration_analysis.pkl", {"config_meta": "c", "tables": []})
    renamed = path.rename(tmp_path / "analysis.json")
    with pytest.raises(ConfigError, match="not JSON text"):
        read_analysis(renamed)


def test_times_and_snapshot_tokens_are_kept_from_a_password_of_digits(tmp_path: Path) -> None:
    """A password "2026" masked the cutoff ('***-12-05T...') and an SCN: compare and align then
    failed every table reading the cutoff back, and the SCN was no longer the snapshot's."""
    from datetime import UTC, datetime

    secret = str(random.Random(uuid.uuid4().int).randrange(1000, 9999))
    register_secret(secret)
    moment = datetime(int(secret), 12, 5, 2, 30, tzinfo=UTC)
    content = {
        "cutoff": moment,
        "started_at": moment,
        "tables": [
            {"uploaded_at": moment, "snapshot": {"kind": "flashback", "token": f"1{secret}7"}}
        ],
        "reason": f"pin {secret}",
    }
    back = read_json(write_json(tmp_path / "a.json", content))
    assert datetime.fromisoformat(back["cutoff"]) == moment
    assert back["tables"][0]["uploaded_at"] == moment.isoformat()
    assert back["tables"][0]["snapshot"]["token"] == f"1{secret}7"
    assert back["reason"] == f"pin {MASK}"
    # a token anywhere else may be a credential's
    assert read_json(write_json(tmp_path / "b.json", {"token": secret}))["token"] == MASK


@pytest.mark.parametrize("secret", ["match", "uploaded", "flashback"])
def test_lakeshifts_own_words_are_kept_from_a_password_that_spells_one(
    tmp_path: Path, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A password "match" masked the analysis' statuses (upload skipped every table), one
    "uploaded" the upload's (compare found no upload), one "flashback" the snapshot's kind."""
    from lakeshift import redaction

    # registered for this test only: every later message holding the word would be masked
    monkeypatch.setattr(redaction, "_secrets", set(redaction._secrets))
    register_secret(secret)
    content = {
        "step": "upload",
        "partition_strategy": "date",
        "tables": [{"status": secret, "snapshot": {"kind": secret, "token": "1"}}],
        "samples": [{"kind": "changed", "key": {"status": secret}}],
    }
    back = read_pickle(write_pickle(tmp_path / "a.pkl", content))
    assert back["tables"][0] == {"status": secret, "snapshot": {"kind": secret, "token": "1"}}
    assert back["samples"][0]["key"] == {"status": MASK}  # data stays masked
