"""The inventory (xlsx or csv) and the column mappings, validated before any work starts."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from lakeshift.errors import ConfigError
from lakeshift.inventory import (
    ColumnMapping,
    Period,
    TableSpec,
    load_column_mappings,
    load_inventory,
)


def _csv(tmp_path: Path, text: str, name: str = "input_tables.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _xlsx(tmp_path: Path, rows: list[list[object]]) -> Path:
    return _workbook(tmp_path, {"Sheet": rows})


def _workbook(tmp_path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = Workbook()
    book.remove(book.worksheets[0])
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "input_tables.xlsx"
    book.save(path)
    return path


def _save_results(path: Path, results: dict[str, tuple[str, str]]) -> None:
    """Store formula results as Excel does (`cell: (type, value)`); openpyxl stores none."""
    with zipfile.ZipFile(path) as book:
        parts = {name: book.read(name) for name in book.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    for cell, (kind, value) in results.items():
        sheet, found = re.subn(
            rf'<c r="{cell}"><f>(.*?)</f><v\s*/>',
            rf'<c r="{cell}" t="{kind}"><f>\1</f><v>{value}</v>',
            sheet,
        )
        assert found == 1, cell
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as book:
        for name, content in parts.items():
            book.writestr(name, content)


def _error(action: object) -> ConfigError:
    assert callable(action)
    with pytest.raises(ConfigError) as caught:
        action()
    assert "\n" not in str(caught.value), "a ConfigError is one line"
    return caught.value


def _mappings(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "column_mappings.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


SPECS = [TableSpec("HR.EMPLOYEES", "employees"), TableSpec("HR.DEPARTMENTS", "departments")]


# the inventory


def test_xlsx_inventory_is_read_with_every_column(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path,
        [
            ["source_table", "target_table", "date_column", "key_columns", "where", "period"],
            ["HR.EMPLOYEES", "staff", "HIRED_ON", "EMP_ID, DEPT_ID", "ACTIVE = 1", "year"],
        ],
    )

    (spec,) = load_inventory(path)

    assert spec == TableSpec(
        source_table="HR.EMPLOYEES",
        target_table="staff",
        date_column="HIRED_ON",
        key_columns=("EMP_ID", "DEPT_ID"),
        where="ACTIVE = 1",
        period=Period.YEAR,
        enabled=True,
        row=2,
    )


def test_csv_inventory_is_read_with_every_column(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "source_table,target_table,date_column,key_columns,where,period,enabled\n"
        "SALES.ORDERS,orders,ORDER_TS,\"ORDER_ID,LINE_NO\",STATUS <> 'X',day,no\n",
    )

    (spec,) = load_inventory(path)

    assert spec.source_table == "SALES.ORDERS"
    assert spec.target_table == "orders"
    assert spec.date_column == "ORDER_TS"
    assert spec.key_columns == ("ORDER_ID", "LINE_NO")
    assert spec.where == "STATUS <> 'X'"
    assert spec.period is Period.DAY
    assert spec.enabled is False


def test_headers_are_case_insensitive_and_may_use_spaces(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path,
        [
            ["Source Table", "TARGET_TABLE", "Date Column", "Key columns", "PERIOD", "Enabled"],
            ["HR.EMPLOYEES", "staff", "HIRED_ON", "EMP_ID", "Day", "Yes"],
        ],
    )

    (spec,) = load_inventory(path)

    assert (spec.target_table, spec.date_column, spec.key_columns) == (
        "staff",
        "HIRED_ON",
        ("EMP_ID",),
    )
    assert spec.period is Period.DAY


def test_defaults_lowercased_target_monthly_period_and_enabled(tmp_path: Path) -> None:
    (spec,) = load_inventory(_csv(tmp_path, "source_table\nHR.EMPLOYEES\n"))

    assert spec.target_table == "employees"
    assert spec.period is Period.MONTH
    assert spec.enabled is True
    assert (spec.date_column, spec.key_columns, spec.where) == (None, (), None)


def test_bare_table_name_is_accepted_and_lowercased_for_the_target(tmp_path: Path) -> None:
    (spec,) = load_inventory(_csv(tmp_path, "source_table\nOrders\n"))
    assert (spec.source_table, spec.target_table) == ("Orders", "orders")


@pytest.mark.parametrize("target", ["../../escaped", "Trans Actions", "a.b", "x/y", "'q'"])
def test_a_target_that_is_no_plain_name_is_refused(tmp_path: Path, target: str) -> None:
    """The target names a folder in the lake and the output: `../../escaped` wrote outside both."""
    path = _csv(tmp_path, f'source_table,target_table\nHR.A,"{target}"\n')
    error = _error(lambda: load_inventory(path))
    assert error.where == "row 2" and "target_table" in str(error)


def test_a_quoted_source_name_gives_a_plain_default_target(tmp_path: Path) -> None:
    (spec,) = load_inventory(_csv(tmp_path, 'source_table\n"hr.""Mixed Case"""\n'))
    assert (spec.source_table, spec.target_table) == ('hr."Mixed Case"', "mixed_case")


def test_blank_rows_are_skipped_and_rows_keep_their_file_line(tmp_path: Path) -> None:
    specs = load_inventory(_csv(tmp_path, "source_table,period\n,\nHR.A,\n\nHR.B,year\n"))
    assert [(s.source_table, s.row) for s in specs] == [("HR.A", 3), ("HR.B", 5)]


@pytest.mark.parametrize(
    ("text", "enabled"),
    [
        ("true", True),
        ("TRUE", True),
        ("yes", True),
        ("1", True),
        ("x", True),
        ("X", True),
        ("", True),
        ("false", False),
        ("False", False),
        ("no", False),
        ("NO", False),
        ("0", False),
    ],
)
def test_enabled_text_is_parsed(tmp_path: Path, text: str, enabled: bool) -> None:
    (spec,) = load_inventory(_csv(tmp_path, f"source_table,enabled\nHR.A,{text}\n"))
    assert spec.enabled is enabled


@pytest.mark.parametrize(("cell", "enabled"), [(True, True), (False, False), (1, True), (0, False)])
def test_enabled_booleans_and_numbers_from_excel_are_parsed(
    tmp_path: Path, cell: object, enabled: bool
) -> None:
    (spec,) = load_inventory(_xlsx(tmp_path, [["source_table", "enabled"], ["HR.A", cell]]))
    assert spec.enabled is enabled


@pytest.mark.parametrize("text", ["maybe", "2", "off-ish"])
def test_unreadable_enabled_names_the_row(tmp_path: Path, text: str) -> None:
    path = _csv(tmp_path, f"source_table,enabled\nHR.A,yes\nHR.B,{text}\n")
    error = _error(lambda: load_inventory(path))
    assert (error.file, error.where) == (str(path), "row 3")
    assert text in str(error)


def test_table_listed_twice_names_both_rows(tmp_path: Path) -> None:
    path = _csv(tmp_path, "source_table\nHR.A\nHR.B\nhr.a\n")
    error = _error(lambda: load_inventory(path))
    assert error.file == str(path)
    assert "rows 2 and 4" in str(error)
    assert "source_table" in str(error)


def test_target_table_listed_twice_names_both_rows(tmp_path: Path) -> None:
    path = _csv(tmp_path, "source_table,target_table\nHR.A,people\nSALES.A,People\n")
    error = _error(lambda: load_inventory(path))
    assert "target_table" in str(error)
    assert "rows 2 and 3" in str(error)


def test_a_misspelt_header_is_named_with_the_one_meant(tmp_path: Path) -> None:
    path = _csv(tmp_path, "source_table,date_colum\nHR.A,created\n")
    error = _error(lambda: load_inventory(path))
    assert (error.file, error.where) == (str(path), "row 1")
    assert "date_colum (did you mean date_column?)" in str(error)


def test_a_column_of_the_users_own_is_read_past(tmp_path: Path) -> None:
    """The scripts before lakeshift read the inventory with pandas, past any notes column."""
    (spec,) = load_inventory(_csv(tmp_path, "source_table,owner notes\nHR.A,ask Ann\n"))
    assert spec.source_table == "HR.A"


def test_a_value_in_a_column_without_header_is_refused(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, [["source_table", "key_columns", None], ["HR.A", "id", "org_id"]])
    error = _error(lambda: load_inventory(path))
    assert error.where == "row 2" and "column C holds 'org_id' but has no header" in str(error)


def test_merged_cells_read_as_they_show(tmp_path: Path) -> None:
    """A merged block shows its first value in every cell: 'N' over three rows disables three."""
    path = _xlsx(
        tmp_path,
        [["source_table", "enabled"], ["HR.A", "N"], ["HR.B", None], ["HR.C", None], ["HR.D", "Y"]],
    )
    from openpyxl import load_workbook

    book = load_workbook(path)
    book.active.merge_cells("B2:B4")
    book.save(path)
    assert [s.enabled for s in load_inventory(path)] == [False, False, False, True]
    book.active.merge_cells("A1:B1")
    book.save(path)
    error = _error(lambda: load_inventory(path))
    assert "header cells A1:B1 are merged" in str(error)


@pytest.mark.parametrize(
    ("row", "where"),
    [
        (["HR.A", "a", "=FALSE()"], "sheet Sheet, row 2, column C (enabled)"),
        (["HR.A", '=LOWER("X")', "no"], "sheet Sheet, row 2, column B (target_table)"),
    ],
)
def test_a_formula_never_computed_is_refused_naming_sheet_row_and_column(
    tmp_path: Path, row: list[object], where: str
) -> None:
    """A workbook written by a program and never opened in Excel holds formulas without their
    results: read as blank, `=FALSE()` enabled the table and `=LOWER("X")` gave the default."""
    path = _xlsx(tmp_path, [["source_table", "target_table", "enabled"], row])
    error = _error(lambda: load_inventory(path))
    assert (error.file, error.where) == (str(path), where)
    assert "formula without a computed value" in str(error)
    assert "open and save the workbook in Excel (or type the value)" in str(error)


def test_a_formula_never_computed_in_a_column_lakeshift_ignores_is_no_error(
    tmp_path: Path,
) -> None:
    path = _xlsx(tmp_path, [["source_table", "notes"], ["HR.A", '=CONCAT("owner: ", "bob")']])
    (spec,) = load_inventory(path)
    assert spec.source_table == "HR.A"


def test_a_formula_with_its_saved_result_is_read_as_that_result(tmp_path: Path) -> None:
    """As Excel saves them: a result of each type, and empty text (a string with no value)."""
    path = _xlsx(
        tmp_path,
        [
            ["source_table", "target_table", "enabled", "where"],
            ["HR.A", '=LOWER("X")', "=FALSE()", '=""'],
        ],
    )
    _save_results(path, {"B2": ("str", "x"), "C2": ("b", "0"), "D2": ("str", "")})
    (spec,) = load_inventory(path)
    assert (spec.target_table, spec.enabled, spec.where) == ("x", False, None)


def test_the_inventory_is_the_sheet_with_the_header_after_a_sheet_of_notes(
    tmp_path: Path,
) -> None:
    path = _workbook(
        tmp_path,
        {"notes": [["migration of HR"]], "tables": [["source_table"], ["HR.A"]], "x": [[1]]},
    )
    assert [spec.source_table for spec in load_inventory(path)] == ["HR.A"]


def test_the_first_sheet_is_read_when_it_has_the_header(tmp_path: Path) -> None:
    path = _workbook(tmp_path, {"new": [["source_table"], ["HR.A"]], "old": [["source_table"]]})
    assert [spec.source_table for spec in load_inventory(path)] == ["HR.A"]


def test_several_sheets_with_the_header_after_a_sheet_of_notes_are_refused(
    tmp_path: Path,
) -> None:
    path = _workbook(
        tmp_path, {"notes": [["x"]], "tables": [["source_table"]], "old": [["source_table"]]}
    )
    error = _error(lambda: load_inventory(path))
    assert "sheets tables, old each have a source_table header" in str(error)
    assert "the first sheet, notes, has none: move the inventory's sheet first" in str(error)


def test_a_workbook_without_the_header_names_the_sheet_read(tmp_path: Path) -> None:
    path = _workbook(tmp_path, {"notes": [["x"]], "tables": [["source table name"], ["HR.A"]]})
    error = _error(lambda: load_inventory(path))
    assert error.where == "sheet notes, row 1"
    assert "missing the source_table column (the first sheet is read" in str(error)


def test_a_csv_separated_by_semicolons_is_told_to_use_commas(tmp_path: Path) -> None:
    path = _csv(tmp_path, "source_table;target_table\nHR.A;a\n")
    error = _error(lambda: load_inventory(path))
    assert error.where == "row 1"
    assert "separated by `;`; save the CSV with `,` separators" in str(error)


def test_an_inventory_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "input_tables.csv"
    path.write_bytes("source_table,where\nHR.A,name = 'Zoé'\n".encode("cp1252"))
    error = _error(lambda: load_inventory(path))
    assert error.file == str(path) and "save it as CSV UTF-8" in str(error)


def test_repeated_header_is_an_error(tmp_path: Path) -> None:
    path = _csv(tmp_path, "source_table,Source Table\nHR.A,HR.B\n")
    error = _error(lambda: load_inventory(path))
    assert error.where == "row 1"
    assert "source_table" in str(error)


def test_missing_source_table_header_is_an_error(tmp_path: Path) -> None:
    path = _csv(tmp_path, "target_table\nemployees\n")
    assert "source_table" in str(_error(lambda: load_inventory(path)))


def test_empty_source_table_names_the_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, "source_table,target_table\nHR.A,a\n,b\n")
    error = _error(lambda: load_inventory(path))
    assert error.where == "row 3"


@pytest.mark.parametrize("period", ["week", "monthly", "quarter"])
def test_bad_period_names_the_row_and_value(tmp_path: Path, period: str) -> None:
    path = _csv(tmp_path, f"source_table,period\nHR.A,{period}\n")
    error = _error(lambda: load_inventory(path))
    assert error.where == "row 2"
    assert repr(period) in str(error)


def test_empty_inventory_file_is_an_error(tmp_path: Path) -> None:
    path = _csv(tmp_path, "")
    error = _error(lambda: load_inventory(path))
    assert error.file == str(path)
    assert "empty" in str(error)


def test_inventory_with_only_headers_lists_no_tables(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, [["source_table", "enabled"], [None, None]])
    assert "no tables" in str(_error(lambda: load_inventory(path)))


def test_missing_inventory_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "input_tables.xlsx"
    assert _error(lambda: load_inventory(path)).file == str(path)


def test_inventory_of_another_format_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "source_table\nHR.A\n", name="input_tables.json")
    assert ".xlsx or .csv" in str(_error(lambda: load_inventory(path)))


def test_corrupt_workbook_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "input_tables.xlsx"
    path.write_bytes(b"not a zip file")
    error = _error(lambda: load_inventory(path))
    assert error.file == str(path)
    assert "workbook" in str(error)


@pytest.mark.parametrize("name", ["HR.A.B", ".EMPLOYEES", "HR.", "HR..EMPLOYEES", "HR. EMPLOYEES"])
def test_source_table_must_be_schema_dot_table(tmp_path: Path, name: str) -> None:
    path = _csv(tmp_path, f"source_table\n{name}\n")
    error = _error(lambda: load_inventory(path))
    assert error.where == "row 2"
    assert "schema.table" in str(error)


# column_mappings.json


def test_mappings_rename_and_drop_and_default_to_lowercase(tmp_path: Path) -> None:
    path = _mappings(tmp_path, {"HR.EMPLOYEES": {"FULL_NAME": "name", "SSN": None}})

    mapping = load_column_mappings(path, SPECS)["HR.EMPLOYEES"]

    assert mapping.target_name("FULL_NAME") == "name"
    assert mapping.target_name("full_name") == "name"
    assert mapping.target_name("SSN") is None
    assert mapping.target_name("HIRED_ON") == "hired_on"


def test_mapping_table_names_match_the_inventory_case_insensitively(tmp_path: Path) -> None:
    path = _mappings(tmp_path, {"hr.employees": {"A": "b"}})

    mappings = load_column_mappings(path, SPECS)

    assert mappings["HR.EMPLOYEES"].target_name("A") == "b"
    assert mappings["HR.DEPARTMENTS"] == ColumnMapping()


def test_no_mappings_file_maps_every_column_to_its_lowercased_name() -> None:
    mappings = load_column_mappings(None, SPECS)
    assert set(mappings) == {"HR.EMPLOYEES", "HR.DEPARTMENTS"}
    assert mappings["HR.EMPLOYEES"].target_name("EMP_ID") == "emp_id"


def test_mapping_for_a_table_not_in_the_inventory_is_left_unused(tmp_path: Path) -> None:
    """A trial run's inventory lists a few of the tables the mappings were written for."""
    path = _mappings(tmp_path, {"HR.EMPLOYEES": {"A": "x"}, "HR.PAYROLL": {"A": "b"}})
    mappings = load_column_mappings(path, SPECS)
    assert "HR.PAYROLL" not in mappings and "HR.EMPLOYEES" in mappings


@pytest.mark.parametrize(
    "renames",
    [{"A": "x", "B": "x"}, {"A": "X", "B": "x"}, {"A": "x", "B": None, "C": "x"}],
)
def test_several_columns_mapped_to_one_target_are_named(
    tmp_path: Path, renames: dict[str, str | None]
) -> None:
    path = _mappings(tmp_path, {"HR.EMPLOYEES": renames})
    error = _error(lambda: load_column_mappings(path, SPECS))
    assert error.where == "HR.EMPLOYEES"
    assert "several columns map to x" in str(error)


def test_a_source_column_listed_twice_is_an_error(tmp_path: Path) -> None:
    path = _mappings(tmp_path, '{"HR.EMPLOYEES": {"EMP_ID": "id", "EMP_ID": "key"}}')
    error = _error(lambda: load_column_mappings(path, SPECS))
    assert error.where == "HR.EMPLOYEES"
    assert "EMP_ID" in str(error) and "more than once" in str(error)


def test_columns_whose_names_differ_in_case_are_mapped_each_by_its_own_spelling(
    tmp_path: Path,
) -> None:
    """A table with both `Val` and `val`: `{"Val": null}` dropped both (and the table then
    matched without either), and no mapping could tell them apart."""
    from lakeshift.engines.base import Column
    from lakeshift.mapping import map_columns
    from lakeshift.types import Kind, LogicalType

    number = LogicalType(Kind.INTEGER)
    both = [Column(name, "int", number) for name in ("id", "Val", "val")]

    def mapped(text: str, columns: list[Column] = both) -> tuple[dict[str, str], list[str]]:
        path = _mappings(tmp_path, json.dumps({"HR.EMPLOYEES": json.loads(text)}))
        mapping = load_column_mappings(path, SPECS)["HR.EMPLOYEES"]
        result = map_columns(SPECS[0], columns, mapping)
        assert not result.unknown
        return {m.source.name: m.target_name for m in result.mapped}, result.dropped

    assert mapped('{"Val": null}') == ({"id": "id", "val": "val"}, ["Val"])
    assert mapped('{"Val": "v_upper", "val": "v_lower"}') == (
        {"id": "id", "Val": "v_upper", "val": "v_lower"},
        [],
    )
    # an entry in another case still maps a column no entry spells exactly
    assert mapped('{"ID": "key", "VAL": "v"}', both[:2]) == ({"id": "key", "Val": "v"}, [])
    # and an entry no column takes is named, so analyze refuses it
    path = _mappings(tmp_path, '{"HR.EMPLOYEES": {"Val": "a", "VAL": "b"}}')
    mapping = load_column_mappings(path, SPECS)["HR.EMPLOYEES"]
    assert map_columns(SPECS[0], both[:2], mapping).unknown == ["VAL"]


def test_a_table_listed_twice_is_an_error(tmp_path: Path) -> None:
    path = _mappings(tmp_path, '{"HR.EMPLOYEES": {"A": "x"}, "hr.employees": {"A": "y"}}')
    error = _error(lambda: load_column_mappings(path, SPECS))
    assert "HR.EMPLOYEES" in str(error)
    assert "more than once" in str(error)


def test_malformed_mappings_name_line_and_column(tmp_path: Path) -> None:
    path = _mappings(tmp_path, '{\n  "HR.EMPLOYEES": {"A" "x"}\n}\n')
    error = _error(lambda: load_column_mappings(path, SPECS))
    assert error.file == str(path)
    assert error.where == "line 2, column 24"  # where "x" stands instead of ":"


@pytest.mark.parametrize("target", [5, True, ["x"], {"x": "y"}, "", "  "])
def test_non_string_targets_are_refused(tmp_path: Path, target: object) -> None:
    path = _mappings(tmp_path, {"HR.EMPLOYEES": {"A": target}})
    error = _error(lambda: load_column_mappings(path, SPECS))
    assert error.where == "HR.EMPLOYEES"
    assert "target name or null" in str(error)


@pytest.mark.parametrize("content", [["HR.EMPLOYEES"], {"HR.EMPLOYEES": ["A", "B"]}])
def test_mappings_must_be_objects(tmp_path: Path, content: object) -> None:
    path = _mappings(tmp_path, content)
    assert _error(lambda: load_column_mappings(path, SPECS)).file == str(path)


def test_missing_mappings_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "column_mappings.json"
    assert _error(lambda: load_column_mappings(path, SPECS)).file == str(path)


def test_period_bounds_cover_exactly_one_period() -> None:
    from datetime import date

    from lakeshift.inventory import Period, period_bounds

    assert period_bounds("2024-12", Period.MONTH) == (date(2024, 12, 1), date(2025, 1, 1))
    assert period_bounds("2024", Period.YEAR) == (date(2024, 1, 1), date(2025, 1, 1))
    assert period_bounds("2024-02-29", Period.DAY) == (date(2024, 2, 29), date(2024, 3, 1))
    assert period_bounds("0000-00", Period.MONTH) is None  # a MySQL zero date
    assert period_bounds("9999-12-31", Period.DAY) is None  # no next day to bound it
