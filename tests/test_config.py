"""The user's three configuration files: read in their formats, every mistake named in one line."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from lakeshift.config import (
    load_meta_config,
    load_migration_config,
    load_source_settings,
)
from lakeshift.errors import ConfigError
from lakeshift.redaction import MASK, display_url, redact
from lakeshift.types import LogicalType

USERS_META_CONFIG = """\
[input]
table = "input_tables.xlsx"
column_maps = "column_mappings.json"
env = ".env"

[output]
folder = "output/"
csv.path = "migration_results.csv"
"""
USERS_MIGRATION_CONFIG = {
    "chunk_size": 50000,
    "max_memory_mb": 512,
    "aws": {"s3_bucket": "your-migration-bucket", "profile": "your-aws-profile"},
}


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _meta(folder: Path, text: str) -> Path:
    return _write(folder / "config_meta.cfg", text)


def _migration(folder: Path, content: object) -> Path:
    text = content if isinstance(content, str) else json.dumps(content)
    return _write(folder / "migration_config.cfg", text)


def _error(action: object) -> ConfigError:
    assert callable(action)
    with pytest.raises(ConfigError) as caught:
        action()
    assert "\n" not in str(caught.value), "a ConfigError is one line"
    return caught.value


def _secret() -> str:
    return f"s3cr3t-{uuid.uuid4().hex[:12]}"


# config_meta.cfg


def test_users_meta_config_reads_the_dotted_csv_path_key(tmp_path: Path) -> None:
    meta = load_meta_config(_meta(tmp_path, USERS_META_CONFIG))

    assert meta.output.csv_path == "migration_results.csv"
    assert meta.input.table == tmp_path / "input_tables.xlsx"
    assert meta.input.column_maps == tmp_path / "column_mappings.json"
    assert meta.input.env == tmp_path / ".env"
    assert meta.output.folder == tmp_path / "output"


def test_meta_config_paths_resolve_against_its_folder_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _meta(tmp_path / "project" / "conf", USERS_META_CONFIG)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    meta = load_meta_config(Path("..") / "project" / "conf" / "config_meta.cfg")

    folder = config.parent.resolve()
    assert meta.input.table == folder / "input_tables.xlsx"
    assert meta.input.env == folder / ".env"
    assert meta.output.folder == folder / "output"


def test_meta_config_keeps_absolute_paths(tmp_path: Path) -> None:
    inventory = tmp_path / "shared" / "tables.csv"
    config = _meta(tmp_path / "project", f'[input]\ntable = "{inventory}"\n')

    meta = load_meta_config(config)

    assert meta.input.table == inventory
    assert meta.input.column_maps is None
    assert meta.input.env is None


def test_meta_config_defaults_the_output_and_verify_sections(tmp_path: Path) -> None:
    meta = load_meta_config(_meta(tmp_path, '[input]\ntable = "tables.csv"\n'))

    assert meta.output.folder == tmp_path / "output"
    assert meta.output.csv_path == "migration_results.csv"
    assert meta.verify.buckets == 1  # groups sized by rows alone
    assert meta.verify.float_relative_tolerance == 1e-9


def test_meta_config_reads_the_verify_section(tmp_path: Path) -> None:
    text = '[input]\ntable = "t.csv"\n\n[verify]\nbuckets = 16\nmax_samples = 3\n'
    meta = load_meta_config(_meta(tmp_path, text + "float_relative_tolerance = 0.001\n"))

    assert (meta.verify.buckets, meta.verify.max_samples) == (16, 3)
    assert meta.verify.float_relative_tolerance == 0.001


def test_missing_meta_config_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config_meta.cfg"
    error = _error(lambda: load_meta_config(path))
    assert error.file == str(path)
    assert "not found" in str(error)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[input]\ntable = "t.csv"\ntables = "u.csv"\n', "input.tables"),
        (USERS_META_CONFIG + 'csv.paths = "x.csv"\n', "output.csv.paths"),
        ('[input]\ntable = "t.csv"\n\n[verify]\nbucket = 3\n', "verify.bucket"),
        ('[input]\ntable = "t.csv"\n\n[inptu]\ntable = "t.csv"\n', "inptu"),
    ],
)
def test_unknown_meta_key_names_file_section_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = _meta(tmp_path, text)
    error = _error(lambda: load_meta_config(path))
    assert str(path) in str(error)
    assert f"{key}: unknown key" in str(error)


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("[verify]\nbuckets = true\n", "verify.buckets"),
        ('[verify]\nbuckets = "many"\n', "verify.buckets"),
        ('[verify]\nbuckets = "16"\n', "verify.buckets"),
        ("[verify]\nbuckets = 1.5\n", "verify.buckets"),
        ("[verify]\nbuckets = 0\n", "verify.buckets"),
        ("[verify]\nfloat_relative_tolerance = true\n", "verify.float_relative_tolerance"),
        ("[output]\nfolder = 5\n", "output.folder"),
    ],
)
def test_wrong_meta_value_type_names_the_key(tmp_path: Path, setting: str, key: str) -> None:
    path = _meta(tmp_path, '[input]\ntable = "t.csv"\n\n' + setting)
    error = _error(lambda: load_meta_config(path))
    assert str(path) in str(error)
    assert key in str(error)


def test_meta_config_without_input_section_names_it(tmp_path: Path) -> None:
    path = _meta(tmp_path, '[output]\nfolder = "out"\n')
    assert "input: Field required" in str(_error(lambda: load_meta_config(path)))


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('table = "t.csv"\n', 1),
        ('[input\ntable = "t.csv"\n', 1),
        ('[input]\ntable = "t.csv"\ntable = "u.csv"\n', 3),
        ('[input]\ntable = "t.csv"\n[input]\n', 3),
        ('[input]\ntable = "t.csv"\n= 5\n', 3),
    ],
)
def test_ini_syntax_error_is_one_line_naming_the_line(tmp_path: Path, text: str, line: int) -> None:
    path = _meta(tmp_path, text)
    error = _error(lambda: load_meta_config(path))
    assert error.file == str(path)
    assert error.where == f"line {line}"
    assert "cannot be read as INI" in str(error)


@pytest.mark.parametrize(
    ("setting", "where"),
    [
        ('[output]\nfolder = "output/"   # my output\n', "[output] folder"),
        ('[output]\nfolder = "output/" ; my output\n', "[output] folder"),
        ("[output]\ncsv.path = 'r.csv'# mine\n", "[output] csv.path"),
        ("[verify]\nbuckets = 256  # more for big tables\n", "[verify] buckets"),
        ('[output]\nfolder: "out/"  # mine\n', "[output] folder"),
        ("[output]\nfolder = output/ # mine\n", "[output] folder"),
    ],
)
def test_a_comment_after_a_value_names_section_and_key(
    tmp_path: Path, setting: str, where: str
) -> None:
    """confection reads it as part of the value: a folder literally named `"output/"   # my
    output` was created."""
    path = _meta(tmp_path, '[input]\ntable = "t.csv"\n\n' + setting)
    error = _error(lambda: load_meta_config(path))
    assert (error.file, error.where) == (str(path), where)
    assert "comments must be on a line of their own" in str(error)


def test_a_value_going_on_over_the_next_line_is_refused(tmp_path: Path) -> None:
    """An indented line continues the value before it: `folder =` then an indented
    `"output/"  # mine` made a folder whose name held a line break and the comment."""
    text = '[input]\ntable = "t.csv"\n\n[output]\nfolder =\n  "output/"  # mine\n'
    path = _meta(tmp_path, text)
    error = _error(lambda: load_meta_config(path))
    assert (error.file, error.where) == (str(path), "[output] folder")
    assert "goes on over the next line" in str(error)


@pytest.mark.parametrize("folder", ['"${HOME}/out"', "${HOME}/out", '"${output:base}/x"'])
def test_a_variable_in_a_value_is_refused_not_taken_literally(tmp_path: Path, folder: str) -> None:
    """Not expanded, `"${HOME}/out"` made a folder named with its quotes and `$`."""
    path = _meta(tmp_path, f'[input]\ntable = "t.csv"\n\n[output]\nfolder = {folder}\n')
    error = _error(lambda: load_meta_config(path))
    assert (error.file, error.where) == (str(path), "[output] folder")
    assert "variables are not expanded" in str(error)


@pytest.mark.parametrize("folder", ["runs/#3", "2024 #1 run", "10 ;x", "a # b"])
def test_a_quoted_value_holding_comment_characters_is_kept(tmp_path: Path, folder: str) -> None:
    """Inside the quotes `#` and `;` are the value's: "2024 #1 run" was refused once, read
    after parsing as a number and a comment."""
    text = f'[input]\ntable = "t #1; new.csv"\n\n[output]\nfolder = "{folder}"\n'
    meta = load_meta_config(_meta(tmp_path, text))
    assert meta.input.table == tmp_path / "t #1; new.csv"
    assert meta.output.folder == tmp_path / folder


# migration_config.cfg


def test_users_migration_config_is_read(tmp_path: Path) -> None:
    config = load_migration_config(_migration(tmp_path, USERS_MIGRATION_CONFIG))

    assert (config.chunk_size, config.max_memory_mb) == (50000, 512)
    assert config.aws.s3_bucket == "your-migration-bucket"
    assert config.aws.profile == "your-aws-profile"
    assert config.lake is None
    assert config.number_policy == LogicalType.parse("decimal(38,10)")


def test_migration_config_reads_every_optional_aws_setting(tmp_path: Path) -> None:
    aws = {
        "s3_bucket": "b",
        "profile": "p",
        "region": "eu-west-1",
        "prefix": "lake/",
        "glue_database": "g",
        "athena_workgroup": "w",
        "athena_output": "s3://b/athena/",
        "endpoint_url": "http://127.0.0.1:5000",
    }
    config = load_migration_config(_migration(tmp_path, {"aws": aws}))
    assert config.aws.model_dump() == aws


def test_lake_resolves_against_the_config_folder_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _migration(tmp_path / "project", {"lake": "lake"})
    monkeypatch.chdir(tmp_path)

    loaded = load_migration_config(Path("project") / config.name)

    assert loaded.lake == (tmp_path / "project" / "lake").resolve()


def test_absolute_lake_is_kept(tmp_path: Path) -> None:
    lake = tmp_path / "somewhere" / "lake"
    assert load_migration_config(_migration(tmp_path, {"lake": str(lake)})).lake == lake


def test_missing_migration_config_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "migration_config.cfg"
    error = _error(lambda: load_migration_config(path))
    assert error.file == str(path)
    assert "not found" in str(error)


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    path = _migration(tmp_path, '{\n  "chunk_size": 100,\n  "lake": "lake",\n}\n')
    error = _error(lambda: load_migration_config(path))
    assert error.file == str(path)
    assert error.where == "line 4, column 1"
    assert "malformed JSON" in str(error)


def test_migration_config_must_be_an_object(tmp_path: Path) -> None:
    path = _migration(tmp_path, '["lake"]')
    assert "JSON object" in str(_error(lambda: load_migration_config(path)))


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ({"lake": "l", "chunksize": 5}, "chunksize"),
        ({"aws": {"s3_bucket": "b", "bucket": "c"}}, "aws.bucket"),
    ],
)
def test_unknown_migration_key_names_file_and_key(
    tmp_path: Path, content: dict[str, object], key: str
) -> None:
    path = _migration(tmp_path, content)
    error = _error(lambda: load_migration_config(path))
    assert str(path) in str(error)
    assert f"{key}: unknown key" in str(error)


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ({"chunk_size": "abc"}, "chunk_size"),
        ({"chunk_size": "1000"}, "chunk_size"),
        ({"chunk_size": True}, "chunk_size"),
        ({"chunk_size": 1.5}, "chunk_size"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"max_memory_mb": [512]}, "max_memory_mb"),
        ({"max_memory_mb": 16}, "max_memory_mb"),
        ({"target_file_mb": False}, "target_file_mb"),
        ({"compression": "gzip"}, "compression"),
        ({"aws": {"s3_bucket": 5}}, "aws.s3_bucket"),
        ({"aws": "bucket"}, "aws"),
        ({"lake": 5}, "lake"),
        ({"lake": "", "aws": {"s3_bucket": "b"}}, "lake"),
        ({"number_without_precision": "float"}, "number_without_precision"),
        ({"number_without_precision": "decimal"}, "number_without_precision"),
    ],
)
def test_wrong_migration_value_type_names_the_key(
    tmp_path: Path, setting: dict[str, object], key: str
) -> None:
    path = _migration(tmp_path, {"lake": "lake", **setting})
    error = _error(lambda: load_migration_config(path))
    assert str(path) in str(error)
    assert f"{key}:" in str(error)


@pytest.mark.parametrize("database", ["../outside", "", "de mo/../x", "a.b", "sales-2024"])
def test_a_database_that_is_no_plain_name_is_refused(tmp_path: Path, database: str) -> None:
    """It names a folder of the lake: `../outside` wrote Parquet outside the lake."""
    path = _migration(tmp_path, {"lake": "lake", "database": database})
    error = _error(lambda: load_migration_config(path))
    assert error.file == str(path)
    assert f"database: {database!r} must be letters, digits and `_`" in str(error)


def test_a_database_of_letters_digits_and_underscores_is_read(tmp_path: Path) -> None:
    path = _migration(tmp_path, {"lake": "lake", "database": "Sales_2024"})
    assert load_migration_config(path).database == "Sales_2024"


def test_neither_lake_nor_s3_bucket_is_an_error(tmp_path: Path) -> None:
    path = _migration(tmp_path, {"chunk_size": 100, "aws": {"profile": "p", "s3_bucket": ""}})
    error = _error(lambda: load_migration_config(path))
    assert error.file == str(path)
    assert '"lake"' in str(error)
    assert '"aws.s3_bucket"' in str(error)


def test_config_meta_given_for_the_migration_config_says_which_is_which(tmp_path: Path) -> None:
    path = _write(tmp_path / "config_meta.cfg", '[input]\ntable = "t.csv"\n')
    error = _error(lambda: load_migration_config(path))
    assert "looks like config_meta.cfg" in str(error) and "--meta-config" in str(error)


@pytest.mark.parametrize("content", [{"lake": "lake"}, {"aws": {"s3_bucket": "bucket"}}])
def test_either_lake_or_s3_bucket_is_enough(tmp_path: Path, content: dict[str, object]) -> None:
    config = load_migration_config(_migration(tmp_path, content))
    assert config.lake is not None or config.aws.s3_bucket == "bucket"


# .env


def test_source_url_is_read_from_the_env_file(tmp_path: Path) -> None:
    env = _write(tmp_path / ".env", "LAKESHIFT_SOURCE_URL=postgresql://app@db:5432/sales\n")
    settings = load_source_settings(env)
    assert settings.url == "postgresql://app@db:5432/sales"
    assert settings.env_file == env


def test_an_env_file_with_a_byte_order_mark_reads_its_first_variable(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_bytes(b"\xef\xbb\xbfLAKESHIFT_SOURCE_URL=postgresql://app@db:5432/sales\n")
    assert load_source_settings(env).url == "postgresql://app@db:5432/sales"


def test_process_environment_wins_over_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _write(tmp_path / ".env", "LAKESHIFT_SOURCE_URL=postgresql://app@file-host/sales\n")
    monkeypatch.setenv("LAKESHIFT_SOURCE_URL", "mysql://app@process-host/sales")

    assert load_source_settings(env).url == "mysql://app@process-host/sales"


def test_process_environment_is_enough_without_an_env_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAKESHIFT_SOURCE_URL", "postgresql://app@host/db")
    assert load_source_settings(None).url == "postgresql://app@host/db"


def test_relative_sqlite_url_becomes_absolute_against_the_env_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _write(tmp_path / "project" / ".env", "LAKESHIFT_SOURCE_URL=sqlite:///data/source.db\n")
    monkeypatch.chdir(tmp_path)

    url = load_source_settings(Path("project") / ".env").url

    assert url == f"sqlite:///{env.parent.resolve() / 'data' / 'source.db'}"
    assert Path(url.removeprefix("sqlite:///")).is_absolute()


def test_absolute_sqlite_url_is_kept(tmp_path: Path) -> None:
    database = tmp_path / "elsewhere" / "source.db"
    env = _write(tmp_path / ".env", f"LAKESHIFT_SOURCE_URL=sqlite:///{database}\n")
    assert load_source_settings(env).url == f"sqlite:///{database}"


def test_missing_source_url_names_the_env_file(tmp_path: Path) -> None:
    env = _write(tmp_path / ".env", "OTHER=1\n")
    error = _error(lambda: load_source_settings(env))
    assert error.file == str(env)
    assert "LAKESHIFT_SOURCE_URL is not set" in str(error)


def test_missing_env_file_names_it(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    error = _error(lambda: load_source_settings(env))
    assert error.file == str(env)
    assert "not found" in str(error)


@pytest.mark.parametrize("raw", ["/", "?", "#"])
def test_a_password_with_a_raw_url_delimiter_is_refused_without_being_shown(
    tmp_path: Path, raw: str
) -> None:
    """A raw `/`, `?` or `#` ends urlsplit's password early: its rest would be taken for the
    host and printed by every error. Such a URL is refused; the password is masked anyway."""
    password = f"{_secret()}{raw}{_secret()}"
    env = _write(tmp_path / ".env", f"LAKESHIFT_SOURCE_URL=postgresql://app:{password}@db:5432/s\n")
    error = _error(lambda: load_source_settings(env))
    assert "percent-encode" in str(error) and password not in str(error)
    shown = display_url(f"postgresql://app:{password}@db:5432/s")
    assert password not in shown and password.split(raw)[1] not in shown


def test_a_password_with_a_bracket_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    password = f"{_secret()}[x"
    env = _write(tmp_path / ".env", f"LAKESHIFT_SOURCE_URL=postgresql://app:{password}@db/s\n")
    error = _error(lambda: load_source_settings(env))
    assert "not a valid URL" in str(error) and password not in str(error)


def test_a_password_given_as_a_query_parameter_is_registered(tmp_path: Path) -> None:
    password = _secret()
    url = f"postgresql://app@db:5432/s?sslmode=disable&password={password}"
    env = _write(tmp_path / ".env", f"LAKESHIFT_SOURCE_URL={url}\n")
    load_source_settings(env)
    assert password not in display_url(url) and password not in redact(f"failed: {url}")


def test_password_in_the_source_url_is_registered_as_a_secret(tmp_path: Path) -> None:
    password = _secret()
    env = _write(tmp_path / ".env", f"LAKESHIFT_SOURCE_URL=oracle://scott:{password}@db:1521/\n")

    load_source_settings(env)

    assert redact(f"login failed with {password}") == f"login failed with {MASK}"


def test_percent_encoded_url_password_is_registered_in_both_forms(tmp_path: Path) -> None:
    secret = _secret()
    env = _write(tmp_path / ".env", f"LAKESHIFT_SOURCE_URL=postgresql://app:{secret}%40x@db/s\n")

    load_source_settings(env)

    assert redact(f"raw {secret}@x") == f"raw {MASK}"
    assert redact(f"encoded {secret}%40x") == f"encoded {MASK}"


def test_password_in_the_process_environment_url_is_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = _secret()
    monkeypatch.setenv("LAKESHIFT_SOURCE_URL", f"mysql://app:{password}@db/sales")

    load_source_settings(None)

    assert password not in redact(f"error: {password}")


def test_password_and_secret_variables_are_registered_but_other_settings_are_not(
    tmp_path: Path,
) -> None:
    password, secret, host = _secret(), _secret(), f"host-{uuid.uuid4().hex[:12]}"
    env = _write(
        tmp_path / ".env",
        f"LAKESHIFT_SOURCE_URL=postgresql://app@{host}/s\n"
        f"ORACLE_PASSWORD={password}\nAWS_SECRET_ACCESS_KEY={secret}\nDB_HOST={host}\n",
    )

    load_source_settings(env)

    assert redact(f"{password} {secret} {host}") == f"{MASK} {MASK} {host}"


def test_lake_engine_defaults_to_duckdb_and_reads_athena_for_an_s3_lake(tmp_path: Path) -> None:
    assert load_migration_config(_migration(tmp_path, {"lake": "lake"})).lake_engine == "duckdb"
    config = load_migration_config(
        _migration(tmp_path, {"lake_engine": "athena", "aws": {"s3_bucket": "b"}})
    )
    assert config.lake_engine == "athena"


@pytest.mark.parametrize(
    "content",
    [
        {"lake_engine": "athena", "lake": "lake"},
        {"lake_engine": "athena"},
        {"lake_engine": "trino", "aws": {"s3_bucket": "b"}},
    ],
)
def test_a_lake_engine_that_cannot_query_the_lake_names_the_file(
    tmp_path: Path, content: dict[str, object]
) -> None:
    path = _migration(tmp_path, content)
    error = _error(lambda: load_migration_config(path))
    assert "migration_config.cfg" in str(error)
    assert "lake_engine" in str(error) or "athena" in str(error)
