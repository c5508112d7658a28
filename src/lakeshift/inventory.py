"""The inventory of tables to migrate (`input_tables.xlsx` or `.csv`) and the column mappings.

Inventory headers are case-insensitive: `source_table` (required, `schema.table`), `target_table`,
`date_column`, `key_columns` (comma-separated), `where`, `period` (day, month, year), `enabled`.
A workbook's inventory is its first sheet, or the one sheet with a `source_table` header after a
first sheet without one.
Column mappings (`column_mappings.json`) map `{"SCHEMA.TABLE": {"SOURCE_COL": "target_col"}}`;
a null target drops the column, and unmapped columns keep their lower-cased name.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from difflib import get_close_matches
from enum import StrEnum
from pathlib import Path
from typing import Any

from loguru import logger

from lakeshift.config import LAKE_NAME
from lakeshift.errors import ConfigError

HEADERS = (
    "source_table",
    "target_table",
    "date_column",
    "key_columns",
    "where",
    "period",
    "enabled",
)
_TRUE = {"true", "yes", "y", "1", "x"}
_FALSE = {"false", "no", "n", "0", ""}


class Period(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


def period_bounds(value: str, period: Period) -> tuple[date, date] | None:
    """First day of a period (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) and of the next one, or None
    when no date range can express it (a zero date, the end of year 9999).

    >>> period_bounds("2024-12", Period.MONTH)
    (datetime.date(2024, 12, 1), datetime.date(2025, 1, 1))
    """
    try:
        year, month, day = (int(part) for part in [*value.split("-"), "1", "1"][:3])
        first = date(year, month, day)
        if period is Period.YEAR:
            return first, date(year + 1, 1, 1)
        if period is Period.MONTH:
            return first, date(year + month // 12, month % 12 + 1, 1)
        return first, first + timedelta(days=1)
    except (ValueError, OverflowError):
        return None


@dataclass(frozen=True)
class TableSpec:
    """One row of the inventory: what to move and how to slice and compare it."""

    source_table: str
    target_table: str
    date_column: str | None = None
    key_columns: tuple[str, ...] = ()
    where: str | None = None
    period: Period = Period.MONTH
    enabled: bool = True
    row: int = 0  # line of the inventory file, for error messages

    @property
    def name(self) -> str:
        return self.source_table


@dataclass(frozen=True)
class ColumnMapping:
    """Source column name -> target column name (None: dropped) for one table."""

    renames: dict[str, str | None] = field(default_factory=dict)

    def entry_for(self, source_column: str, columns: Collection[str] = ()) -> str | None:
        """The entry that maps `source_column`: the one spelled exactly so, else the one that
        matches it ignoring case and spells no other of the table's `columns` exactly (a
        table with both `Val` and `val` maps each by its own spelling)."""
        if source_column in self.renames:
            return source_column
        folded = source_column.lower()
        return next(
            (n for n in self.renames if n.lower() == folded and n not in columns),
            None,
        )

    def target_name(self, source_column: str, columns: Collection[str] = ()) -> str | None:
        entry = self.entry_for(source_column, columns)
        return source_column.lower() if entry is None else self.renames[entry]


@dataclass(frozen=True)
class _Grid:
    """The inventory's cells as read, each row with its number, and the workbook sheet read."""

    rows: list[tuple[int, list[Any]]]
    sheet: str | None = None


def _read_grid(path: Path) -> _Grid:
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _read_workbook(path)
    if path.suffix.lower() in {".csv", ".txt"}:
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                lines = list(enumerate(csv.reader(handle), start=1))
        except UnicodeDecodeError as error:
            raise ConfigError(
                f"is not UTF-8 text ({error.reason} at byte {error.start}): save it as CSV UTF-8",
                file=str(path),
            ) from None
        return _Grid([(number, list(values)) for number, values in lines])
    raise ConfigError("inventory must be .xlsx or .csv", file=str(path))


def _read_workbook(path: Path) -> _Grid:
    from openpyxl import load_workbook

    try:  # not read-only: only a full load knows the merged cells (an inventory is small)
        book = load_workbook(path, data_only=True)
        # A formula's saved result is all data_only sees: this copy tells one never computed
        formulas = load_workbook(path, read_only=True)
    except Exception as error:
        raise ConfigError(f"cannot be read as a workbook: {error}", file=str(path)) from None
    try:
        sheet = _inventory_sheet(book.worksheets, path)
        rows = [list(values) for values in sheet.iter_rows(values_only=True)]
        _reject_uncomputed_formulas(formulas[sheet.title], sheet, path)
    finally:
        formulas.close()  # a read-only workbook keeps its file open
    for merged in sheet.merged_cells.ranges:
        if merged.min_row == 1:
            raise ConfigError(
                f"header cells {merged.coord} are merged: give each column its own header",
                file=str(path),
                where="row 1",
            )
        # A merged block shows its first cell's value in all of its cells: read it so
        for row in range(merged.min_row, merged.max_row + 1):
            for column in range(merged.min_col, merged.max_col + 1):
                rows[row - 1][column - 1] = rows[merged.min_row - 1][merged.min_col - 1]
    book.close()
    return _Grid(list(enumerate(rows, start=1)), sheet.title)


def _reject_uncomputed_formulas(formulas: Any, saved: Any, path: Path) -> None:
    """A formula saved without its result (a workbook written by a program, never opened in
    Excel) reads as blank: `=FALSE()` would read as enabled."""
    for cells in formulas.iter_rows():
        for cell in cells:
            if cell.data_type != "f":
                continue
            result = saved.cell(cell.row, cell.column)
            header = _text(saved.cell(1, cell.column).value)
            if cell.row > 1 and _header_names([header])[0] not in HEADERS:
                continue  # a column of the user's own, ignored with a warning
            # Excel saves a formula's empty text as a string with no value: a computed blank
            if result.value is None and result.data_type != "str":
                column = _column_letter(cell.column - 1) + (f" ({header})" if header else "")
                raise ConfigError(
                    f"formula without a computed value ({cell.value}): open and save the "
                    "workbook in Excel (or type the value)",
                    file=str(path),
                    where=f"sheet {saved.title}, row {cell.row}, column {column}",
                )


def _header_names(header: Iterable[Any]) -> list[str]:
    return [_text(cell).lower().replace(" ", "_") for cell in header]


def _inventory_sheet(sheets: list[Any], path: Path) -> Any:
    """The first sheet; or, when its first row has no source_table header, the one sheet whose
    first row has (a workbook whose first sheet holds notes)."""
    with_header = [
        sheet
        for sheet in sheets
        if "source_table" in _header_names(next(sheet.iter_rows(max_row=1, values_only=True), ()))
    ]
    first = sheets[0]
    if not with_header or with_header[0] is first:
        return first
    if len(with_header) > 1:
        raise ConfigError(
            f"sheets {', '.join(s.title for s in with_header)} each have a source_table header "
            f"and the first sheet, {first.title}, has none: move the inventory's sheet first",
            file=str(path),
        )
    logger.warning(
        "{}: reading sheet {}: the first sheet, {}, has no source_table header",
        path,
        with_header[0].title,
        first.title,
    )
    return with_header[0]


def _column_letter(index: int) -> str:
    """The spreadsheet's name of the 0-based column `index` (0 is A, 26 is AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _flag(value: Any, path: Path, row: int) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(
        f"enabled must be true or false (or yes/no, 1/0), not {value!r}",
        file=str(path),
        where=f"row {row}",
    )


def load_inventory(path: Path) -> list[TableSpec]:
    """Read and validate the inventory; every problem names the file and row."""
    if not path.is_file():
        raise ConfigError("inventory not found", file=str(path))
    grid = _read_grid(path)
    rows = iter(grid.rows)
    try:
        header_row, header = next(rows)
    except StopIteration:
        raise ConfigError("inventory is empty", file=str(path)) from None
    names = _header_names(header)
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        raise ConfigError(
            f"column(s) {', '.join(repeated)} appear more than once",
            file=str(path),
            where=f"row {header_row}",
        )
    unknown = [name for name in names if name and name not in HEADERS]
    misspelt = {n: close[0] for n in unknown if (close := get_close_matches(n, HEADERS, 1, 0.8))}
    if misspelt:
        raise ConfigError(
            "unknown column(s) "
            + ", ".join(f"{name} (did you mean {known}?)" for name, known in misspelt.items())
            + f"; expected {', '.join(HEADERS)}",
            file=str(path),
            where=f"row {header_row}",
        )
    if unknown:  # notes and the like, which the scripts before lakeshift read past
        logger.warning(
            "{}: column(s) {} are not lakeshift's and are ignored", path, ", ".join(unknown)
        )
    if "source_table" not in names:
        raise _missing_source_table(names, path, grid.sheet, header_row)
    specs: list[TableSpec] = []
    for number, values in rows:
        headerless = [
            i
            for i, value in enumerate(values)
            if _text(value) and (i >= len(names) or not names[i])
        ]
        if headerless:
            raise ConfigError(
                f"column {_column_letter(headerless[0])} holds {values[headerless[0]]!r} but has "
                "no header: name the column, or clear it",
                file=str(path),
                where=f"row {number}",
            )
        record = {
            name: values[i] if i < len(values) else None for i, name in enumerate(names) if name
        }
        if not any(_text(v) for v in record.values()):
            continue
        specs.append(_spec(record, path, number))
    _reject_duplicates(specs, path)
    if not specs:
        raise ConfigError("inventory lists no tables", file=str(path))
    return specs


def _missing_source_table(
    names: list[str], path: Path, sheet: str | None, header_row: int
) -> ConfigError:
    hint = ""
    if any(";" in name and "source_table" in name.split(";") for name in names):
        hint = ": the header is separated by `;`; save the CSV with `,` separators"
    elif sheet is not None:
        hint = " (the first sheet is read, and no sheet has one in its first row)"
    where = f"row {header_row}" if sheet is None else f"sheet {sheet}, row {header_row}"
    return ConfigError(f"missing the source_table column{hint}", file=str(path), where=where)


def _default_target(source: str) -> str:
    """The source's table name, lower-cased, unquoted, with other characters as `_`."""
    return re.sub(r"[^a-z0-9_]", "_", source.split(".")[-1].strip('"').lower())


def _spec(record: dict[str, Any], path: Path, row: int) -> TableSpec:
    source = _text(record.get("source_table"))
    if not source:
        raise ConfigError("source_table is empty", file=str(path), where=f"row {row}")
    parts = source.split(".")
    if len(parts) > 2 or any(not part or part != part.strip() for part in parts):
        raise ConfigError(
            f"source_table {source!r} must be schema.table", file=str(path), where=f"row {row}"
        )
    period_text = _text(record.get("period")).lower() or Period.MONTH.value
    try:
        period = Period(period_text)
    except ValueError:
        raise ConfigError(
            f"period must be day, month or year, not {period_text!r}",
            file=str(path),
            where=f"row {row}",
        ) from None
    keys = tuple(k.strip() for k in _text(record.get("key_columns")).split(",") if k.strip())
    enabled_raw = record.get("enabled")
    enabled = _text(enabled_raw) == "" or _flag(enabled_raw, path, row)
    target = _text(record.get("target_table")) or _default_target(source)
    if not LAKE_NAME.fullmatch(target):
        raise ConfigError(
            f"target_table {target!r} must be letters, digits and `_` (it names the lake's "
            "folder and the Glue table); give it one in the inventory's target_table column",
            file=str(path),
            where=f"row {row}",
        )
    return TableSpec(
        source_table=source,
        target_table=target,
        date_column=_text(record.get("date_column")) or None,
        key_columns=keys,
        where=_text(record.get("where")) or None,
        period=period,
        enabled=enabled,
        row=row,
    )


def _reject_duplicates(specs: list[TableSpec], path: Path) -> None:
    for attribute in ("source_table", "target_table"):
        seen: dict[str, int] = {}
        for spec in specs:
            value = getattr(spec, attribute).lower()
            if value in seen:
                raise ConfigError(
                    f"{attribute} {getattr(spec, attribute)} is listed twice (rows {seen[value]} and {spec.row})",
                    file=str(path),
                    where=f"row {spec.row}",
                )
            seen[value] = spec.row


def load_column_mappings(path: Path | None, specs: list[TableSpec]) -> dict[str, ColumnMapping]:
    """Read `column_mappings.json`, keyed by the inventory's source table names."""
    by_table = {spec.source_table: ColumnMapping() for spec in specs}
    if path is None:
        return by_table
    if not path.is_file():
        raise ConfigError("column mappings not found", file=str(path))
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_JsonObject)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise ConfigError(f"malformed JSON: {error.msg}", file=str(path), where=where) from None
    if not isinstance(raw, _JsonObject):
        raise ConfigError("must hold a JSON object of tables", file=str(path))
    known = {spec.source_table.lower(): spec.source_table for spec in specs}
    _reject_repeated_names(raw, path, None, "table")
    for table, renames in raw:
        if table.lower() not in known:
            # A trial run lists a few tables of the full inventory the mappings were made for
            logger.warning(
                "{}: table {} is not in the inventory; its mapping is unused", path, table
            )
            continue
        if not isinstance(renames, _JsonObject) or not all(
            v is None or (isinstance(v, str) and v.strip()) for _, v in renames
        ):
            raise ConfigError(
                "must map source column names to a non-empty target name or null",
                file=str(path),
                where=table,
            )
        _reject_repeated_names(renames, path, table, "column", exact=True)
        targets = [v.lower() for _, v in renames if v is not None]
        repeated = sorted({t for t in targets if targets.count(t) > 1})
        if repeated:
            raise ConfigError(
                f"several columns map to {', '.join(repeated)}", file=str(path), where=table
            )
        by_table[known[table.lower()]] = ColumnMapping(dict(renames))
    return by_table


class _JsonObject(list[tuple[str, Any]]):
    """A JSON object's members in file order, repeats kept so that they can be reported."""


def _reject_repeated_names(
    members: _JsonObject, path: Path, where: str | None, what: str, exact: bool = False
) -> None:
    # Tables match case-insensitively, so `T` and `t` listed together would silently shadow;
    # columns are matched by their exact spelling first (`exact`), so only a true repeat is.
    def spelled(name: str) -> str:
        return name if exact else name.lower()

    names = [spelled(name) for name, _ in members]
    repeated = sorted({name for name, _ in members if names.count(spelled(name)) > 1})
    if repeated:
        raise ConfigError(
            f"{what} {', '.join(repeated)} is listed more than once", file=str(path), where=where
        )
