"""Artifacts each step writes into the output folder, and safe reading of them back.

Every JSON artifact carries `schema_version`. `migration_analysis.pkl` holds the same content as
`migration_analysis.json`, pickled as plain containers; it is read back with an unpickler that
refuses every class, so a foreign pickle cannot run code.
"""

from __future__ import annotations

import io
import json
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loguru import logger

from lakeshift.errors import ConfigError
from lakeshift.redaction import redact

SCHEMA_VERSION = 1
ANALYSIS_JSON = "migration_analysis.json"
ANALYSIS_PICKLE = "migration_analysis.pkl"
ALIGNMENT_JSON = "data_alignment_results.json"
UPLOAD_METADATA_GLOB = "upload_metadata_*.json"


def now_utc() -> datetime:
    return datetime.now(UTC)


def stats_comparison_name(table: str) -> str:
    return f"{table}_stats_comparison.json"


def upload_metadata_name(moment: datetime) -> str:
    return f"upload_metadata_{moment.strftime('%Y%m%d_%H%M%S')}.json"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


# Fields holding names and paths (of tables, columns, periods, slices, files, configs), times
# and snapshot tokens, which later steps read back: a password that is also a word ("items",
# "2024") would mask a table's name and the next step would no longer find it. Everything else
# is masked (free text: reasons, errors, mismatch lines; values; URLs).
NAME_FIELDS = frozenset(
    {
        "source_table",
        "target_table",
        "column",
        "target_column",
        "columns_compared",
        "columns_missing_in_lake",
        "columns_only_in_lake",
        "columns_only_in_source",
        "columns_only_in_target",
        "columns_dropped_by_mapping",
        "key_columns",
        "date_column",
        "period",
        "slice",
        "files",
        "batch_id",
        "database",
        "config_meta",
        "config_meta_relative",
        # times and snapshots later steps read back: a password "2026" masked the cutoff
        # ('***-12-05T...'), and compare and align then failed every table
        "cutoff",
        "created_at",
        "started_at",
        "finished_at",
        "uploaded_at",
        "snapshot.token",  # an SCN or an exported snapshot's id (only under `snapshot`)
        "generation",
        # words of lakeshift's own that later steps decide by: a password "match" masked every
        # status, and upload then skipped every table
        "status",
        "kind",
        "partition_strategy",
        "step",
    }
)


# Fields holding data, or dictionaries keyed by the table's own column names (a sample's
# `key`: {"database": <a value>}): everything under them is masked, whatever its key is called.
DATA_FIELDS = frozenset({"key", "source", "target", "samples", "conversions", "localized"})


def _redacted(
    value: Any, field: str | None = None, names_kept: bool = True, within: str | None = None
) -> Any:
    """`value` with secrets masked in every string it holds, but for names (`NAME_FIELDS`,
    by their own name or as `within.field`, outside `DATA_FIELDS`) and dictionary keys, which
    are names too.

    Redacting each string, not the serialized text, keeps the JSON valid (a numeric secret
    cannot eat digits of a count) and finds secrets JSON would have escaped (`"` or `\\`).
    """
    if isinstance(value, datetime | Path):
        value = _default(value)
    if isinstance(value, str):
        kept = field in NAME_FIELDS or f"{within}.{field}" in NAME_FIELDS
        return value if names_kept and kept else redact(value)
    if isinstance(value, dict):
        return {
            k: _redacted(
                v,
                k if isinstance(k, str) else None,
                names_kept and k not in DATA_FIELDS,
                field,
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redacted(item, field, names_kept, within) for item in value]
    return value


def write_json(path: Path, content: dict[str, Any]) -> Path:
    """Write an artifact atomically, with secrets redacted."""
    payload = {"schema_version": SCHEMA_VERSION, **_redacted(content)}
    text = json.dumps(payload, indent=2, default=_default, ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text + "\n", encoding="utf-8")
    temporary.replace(path)
    return path


def read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError("artifact not found; run the step that writes it first", file=str(path))
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ConfigError(
            f"malformed JSON: {error.msg}", file=str(path), where=f"line {error.lineno}"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError("not JSON text (a pickle? name it .pkl)", file=str(path)) from None
    if not isinstance(content, dict) or content.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError(
            f"not a lakeshift artifact of schema_version {SCHEMA_VERSION}", file=str(path)
        )
    return content


class _PlainUnpickler(pickle.Unpickler):
    """Loads only plain containers and scalars: any class or function reference is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: only plain data is allowed"
        )


def write_pickle(path: Path, content: dict[str, Any]) -> Path:
    """Pickle the JSON-equivalent content (plain containers only), atomically."""
    payload = {"schema_version": SCHEMA_VERSION, **_redacted(content)}
    plain = json.loads(json.dumps(payload, default=_default))
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(pickle.dumps(plain, protocol=pickle.HIGHEST_PROTOCOL))
    temporary.replace(path)
    return path


def read_pickle(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(
            "analysis output not found; run `lakeshift analyze` first", file=str(path)
        )
    try:
        content = _PlainUnpickler(io.BytesIO(path.read_bytes())).load()
    except Exception as error:  # a damaged pickle fails in many ways; none of them runs code
        raise ConfigError(
            f"not a lakeshift analysis pickle ({error}); rerun `lakeshift analyze`", file=str(path)
        ) from None
    if not isinstance(content, dict) or content.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError("not a lakeshift analysis; rerun `lakeshift analyze`", file=str(path))
    return content


def read_analysis(path: Path) -> dict[str, Any]:
    """Read the analysis from its `.pkl` or `.json` form."""
    content = read_pickle(path) if path.suffix.lower() == ".pkl" else read_json(path)
    if not isinstance(content.get("config_meta"), str):
        raise ConfigError(
            "an analysis without its config_meta; rerun `lakeshift analyze`", file=str(path)
        )
    return content


def new_upload_metadata_path(folder: Path, moment: datetime) -> Path:
    path = folder / upload_metadata_name(moment)
    if path.exists():  # two uploads in one second: keep both
        path = folder / f"{path.stem}_{moment.strftime('%f')}.json"
    return path


def uploads_by_table(folder: Path) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """For each target table, (upload metadata, table entry) of its latest successful upload."""
    latest: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for path in sorted(folder.glob(UPLOAD_METADATA_GLOB)):
        try:
            metadata = read_json(path)
        except ConfigError as error:  # the scripts before lakeshift wrote these names too
            logger.warning("{} is skipped: {}", path, error)
            continue
        for entry in metadata.get("tables", []):
            if entry.get("status") == "uploaded":
                latest[entry["target_table"]] = (metadata, entry)
    return latest
