"""The user's configuration files, validated into typed models before any work starts.

- `config_meta.cfg`: INI read with confection (`[input] table, column_maps, env`;
  `[output] folder, csv.path`; optional `[verify]`).
- `migration_config.cfg`: JSON (`chunk_size`, `max_memory_mb`, `aws`, `lake`, ...).
- `.env`: connection settings; `LAKESHIFT_SOURCE_URL` names the source database.

Relative paths are resolved against the folder of the file that names them, so every command
works from any working directory.
"""

from __future__ import annotations

import configparser
import json
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from confection import Config
from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from lakeshift.errors import ConfigError
from lakeshift.redaction import is_secret_name, register_secret
from lakeshift.types import Kind, LogicalType

META_CONFIG_NAME = "config_meta.cfg"
MIGRATION_CONFIG_NAME = "migration_config.cfg"
SOURCE_URL_VARIABLE = "LAKESHIFT_SOURCE_URL"
# A lake's database and table names are folders and Glue names: no path separator, dot, space or
# quote
LAKE_NAME = re.compile(r"[A-Za-z0-9_]+")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class InputSection(_Strict):
    table: Path
    column_maps: Path | None = None
    env: Path | None = None


class OutputSection(_Strict):
    folder: Path = Path("output")
    csv_path: str = Field("migration_results.csv", alias="csv.path")


class VerifySection(_Strict):
    """Tuning of the verification; the defaults suit tables up to billions of rows."""

    # Strict numbers: `true` or "10" is a mistake to report, not a value to coerce.
    # The fewest pass-1 groups per period; by default groups are sized by rows alone (about
    # 64 each): 256 a period gave a table of 1,095 daily periods of 730 rows groups of three,
    # and align took 6.1 s where 4.3 s do (docs/verification.md)
    buckets: StrictInt = Field(1, ge=1, le=1_000_000)
    max_samples: StrictInt = Field(20, ge=0, le=10_000)
    float_relative_tolerance: StrictFloat = Field(1e-9, ge=0, le=1)


class MetaConfig(_Strict):
    input: InputSection
    output: OutputSection = OutputSection()
    verify: VerifySection = VerifySection()


class AwsSection(_Strict):
    s3_bucket: str | None = None
    profile: str | None = None
    region: str | None = None
    prefix: str = ""
    glue_database: str | None = None
    athena_workgroup: str | None = None
    athena_output: str | None = None
    endpoint_url: str | None = None


class ExecutorSection(_Strict):
    """Where upload slices run: `local` threads, or a Dask cluster's `scheduler` address
    (`tcp://host:8786`, `tls://...`), or `local` for a Dask cluster on this machine."""

    kind: Literal["local", "dask"] = "local"
    scheduler: str = "local"

    @field_validator("scheduler")
    @classmethod
    def _scheduler_address(cls, value: str) -> str:
        if value != "local" and not re.fullmatch(r"(tcp|tls|ucx|inproc|ws|wss)://\S+", value):
            raise ValueError('must be "local" or an address like tcp://host:8786')
        return value


class MigrationConfig(_Strict):
    chunk_size: StrictInt = Field(50_000, gt=0)
    max_memory_mb: StrictInt = Field(512, ge=64)
    aws: AwsSection = AwsSection()
    lake: Path | None = None
    database: str = "lakeshift"
    compression: Literal["zstd", "snappy"] = "zstd"
    target_file_mb: StrictInt = Field(128, ge=1)
    number_without_precision: str = "decimal(38,10)"
    executor: ExecutorSection = ExecutorSection()
    # The lake's query engine for analyze, compare and align: DuckDB reads the files in place
    # (local or S3, no per-query cost); Athena queries the Glue tables (S3 lakes only).
    lake_engine: Literal["duckdb", "athena"] = "duckdb"
    _file: str = PrivateAttr(MIGRATION_CONFIG_NAME)  # the file read, for errors found later

    @property
    def file(self) -> str:
        return self._file

    @model_validator(mode="after")
    def _athena_needs_s3(self) -> MigrationConfig:
        if self.lake_engine == "athena" and (self.lake is not None or not self.aws.s3_bucket):
            raise ValueError(
                'lake_engine "athena" queries a lake on S3: set aws.s3_bucket and remove "lake"'
            )
        return self

    @field_validator("lake", mode="before")
    @classmethod
    def _lake_names_a_folder(cls, value: object) -> object:
        # Path("") is the config folder itself: a blanked-out key would silently shadow S3.
        if isinstance(value, str) and not value.strip():
            raise ValueError("must name a folder; remove the key to use aws.s3_bucket")
        return value

    @field_validator("database")
    @classmethod
    def _database_is_a_plain_name(cls, value: str) -> str:
        if not LAKE_NAME.fullmatch(value):
            raise ValueError(
                f"{value!r} must be letters, digits and `_` (it names the lake's folder and the "
                'Glue database), e.g. "lakeshift"'
            )
        return value

    @field_validator("number_without_precision")
    @classmethod
    def _decimal_policy(cls, value: str) -> str:
        parsed = LogicalType.parse(value)
        if parsed.kind is not Kind.DECIMAL:
            raise ValueError("must be decimal(p,s), e.g. decimal(38,10)")
        return value

    @property
    def number_policy(self) -> LogicalType:
        return LogicalType.parse(self.number_without_precision)


def _explain(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        message = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        message = message.removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


def _ini_problem(error: Exception) -> tuple[str, str | None]:
    """One line saying what is wrong with an INI file, and the line at fault when known."""
    context = error.__context__
    cause = context if isinstance(context, configparser.Error) else error
    text = str(getattr(cause, "message", None) or cause)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # configparser's first line is the most specific; confection wraps it in a banner.
    message = lines[0] if isinstance(cause, configparser.Error) and lines else " ".join(lines)
    message = re.sub(r"^While reading from .*?\[line\s+\d+\]: ", "", message)
    line = getattr(cause, "lineno", None)
    if line is None and isinstance(cause, configparser.ParsingError) and cause.errors:
        line = cause.errors[0][0]
        message = "expected `key = value` or `[section]`"
    return message or type(cause).__name__, f"line {line}" if line else None


# confection keeps the rest of a value's line: `"output/"  # mine` is one string. Found in the
# file's own lines, where the quotes still show where a value ends (after parsing, a quoted
# "2024 #1 run/" would look like a number and a comment).
_SECTION = re.compile(r"\s*\[([^\]]+)\]\s*$")
_VALUE_THEN_COMMENT = re.compile(  # `key = value` or, as configparser also reads, `key: value`
    r"""([^\s=:#;\[][^=:]*?)\s*[=:]\s*"""
    r"""(?:(?:"(?:[^"\\]|\\.)*"|'[^']*')\s*[#;]|[^"'\s][^"']*?\s[#;])"""
)


def _reject_misread_values(text: str, raw: dict[str, Any], path: Path) -> None:
    """Values confection keeps as raw text that can only be mistakes: a comment after a value,
    a value going on over an indented next line, and a `${...}` (not expanded here: the value
    would keep its quotes and `$`)."""
    section = ""
    for line in text.splitlines():
        if found := _SECTION.match(line):
            section = found.group(1).strip()
        elif found := _VALUE_THEN_COMMENT.match(line):
            raise ConfigError(
                f"a comment after the value ({line.strip()}): comments must be on a line of "
                "their own",
                file=str(path),
                where=f"[{section}] {found.group(1)}",
            )
    _reject_variables(raw, path)


def _reject_variables(raw: dict[str, Any], path: Path, section: str = "") -> None:
    for key, value in raw.items():
        if isinstance(value, dict):
            _reject_variables(value, path, f"{section}.{key}" if section else key)
        elif isinstance(value, str) and "\n" in value:
            raise ConfigError(
                "the value goes on over the next line (an indented line continues the one "
                "before): start each key at the beginning of its line",
                file=str(path),
                where=f"[{section}] {key}",
            )
        elif isinstance(value, str) and "${" in value:
            raise ConfigError(
                f"{value}: variables are not expanded in this file; write the path itself "
                "(a relative one is read from this file's folder)",
                file=str(path),
                where=f"[{section}] {key}",
            )


def _require_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise ConfigError(f"{what} not found", file=str(path))


def _resolve(base: Path, path: Path | None) -> Path | None:
    if path is None:
        return None
    return path if path.is_absolute() else (base / path)


def load_meta_config(path: Path) -> MetaConfig:
    """Read `config_meta.cfg`, resolving its paths against the file's folder."""
    _require_file(path, "analysis configuration")
    try:
        raw: dict[str, Any] = dict(Config().from_disk(path, interpolate=False))
    except Exception as error:  # confection raises several parser errors
        message, line = _ini_problem(error)
        raise ConfigError(f"cannot be read as INI: {message}", file=str(path), where=line) from None
    _reject_misread_values(path.read_text(encoding="utf-8", errors="replace"), raw, path)
    try:
        meta = MetaConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_explain(error), file=str(path)) from None
    base = path.resolve().parent
    return meta.model_copy(
        update={
            "input": meta.input.model_copy(
                update={
                    "table": _resolve(base, meta.input.table),
                    "column_maps": _resolve(base, meta.input.column_maps),
                    "env": _resolve(base, meta.input.env),
                }
            ),
            "output": meta.output.model_copy(update={"folder": _resolve(base, meta.output.folder)}),
        }
    )


def load_migration_config(path: Path) -> MigrationConfig:
    """Read `migration_config.cfg` (JSON), resolving `lake` against the file's folder."""
    _require_file(path, "migration configuration")
    text = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        hint = (
            f"; this looks like {META_CONFIG_NAME} (INI), and {MIGRATION_CONFIG_NAME} is JSON "
            f"(`lakeshift upload --config` takes {MIGRATION_CONFIG_NAME}, `--meta-config` "
            f"{META_CONFIG_NAME})"
            if re.search(r"^\s*\[(input|output|verify)\]", text, re.MULTILINE)
            else ""
        )
        raise ConfigError(
            f"malformed JSON: {error.msg}{hint}", file=str(path), where=where
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError("must hold a JSON object", file=str(path))
    try:
        config = MigrationConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_explain(error), file=str(path)) from None
    if config.lake is None and not config.aws.s3_bucket:
        raise ConfigError('set "lake" (a local folder) or "aws.s3_bucket"', file=str(path))
    config = config.model_copy(update={"lake": _resolve(path.resolve().parent, config.lake)})
    config._file = str(path)
    return config


class SourceSettings(BaseModel):
    """Connection settings read from `.env` (the process environment wins over the file)."""

    model_config = ConfigDict(frozen=True)
    url: str
    env_file: Path | None = None


def load_source_settings(env_file: Path | None) -> SourceSettings:
    values: dict[str, str] = {}
    if env_file is not None:
        _require_file(env_file, ".env file")
        # utf-8-sig: a byte order mark (Windows editors) would hide the first variable
        values = {
            k: v for k, v in dotenv_values(env_file, encoding="utf-8-sig").items() if v is not None
        }
    for name, value in values.items():
        if is_secret_name(name):
            register_secret(value)
    url = os.environ.get(SOURCE_URL_VARIABLE) or values.get(SOURCE_URL_VARIABLE)
    if not url:
        raise ConfigError(
            f"{SOURCE_URL_VARIABLE} is not set (e.g. sqlite:///source.db or oracle://user:pw@host/?service_name=X)",
            file=str(env_file) if env_file else None,
        )
    for password in url_passwords(url):
        register_secret(password)
        register_secret(unquote(password))  # drivers see it decoded
    try:
        urlsplit(url).port  # noqa: B018 - parses the authority, which may be malformed
    except ValueError:
        raise ConfigError(
            f"{SOURCE_URL_VARIABLE} is not a valid URL: percent-encode the special characters "
            "of the password (`/` as %2F, `[` as %5B, `@` as %40)",
            file=str(env_file) if env_file else None,
        ) from None
    url = _absolute_sqlite_url(url, env_file.resolve().parent if env_file else Path.cwd())
    return SourceSettings(url=url, env_file=env_file)


_QUERY_PASSWORD = re.compile(r"[?&](?:password|passwd|pwd)=([^&#]*)", re.IGNORECASE)


def url_passwords(url: str) -> list[str]:
    """Every password a connection URL may carry, however it is written: the user info's, up to
    the last `@` (a raw `/`, `?`, `#` or `[` in it would end urlsplit's), and query parameters."""
    found = [m.group(1) for m in _QUERY_PASSWORD.finditer(url)]
    _, separator, rest = url.partition("://")
    user_info = rest.rpartition("@")[0] if separator else ""
    if ":" in user_info:
        found.append(user_info.partition(":")[2])
    return [p for p in found if p]


def _absolute_sqlite_url(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        return prefix + str(base / url[len(prefix) :])
    return url
