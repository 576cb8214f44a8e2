"""CSV files and workbooks as Markdown tables, as Dify renders them: a CSV's first row is the
header; every sheet of a workbook is one table (its first row the header, blank rows
dropped; an empty sheet `|  |` twice) followed by a blank line, cells written as pandas
writes them (an empty cell `nan`, numbers and booleans of a column with gaps `1.0`, dates
`2024-01-31 00:00:00`; checked against pandas 2.2 and 3.1)."""

import csv
import datetime
import io
from collections.abc import Iterable, Iterator
from typing import Any

from app.engine.nodes.document_extractor.budget import Budget
from app.engine.nodes.document_extractor.text import decode

Row = list[Any]


def _cell(text: str) -> str:
    return text.replace("\n", " ").replace("\r", "")


def csv_text(content: bytes, budget: Budget) -> str:
    rows: list[list[str]] = []
    for row in csv.reader(io.StringIO(decode(content))):
        budget.row()
        rows.append(row)
    if not rows:
        return ""
    lines = [
        "| " + " | ".join(_cell(cell) for cell in rows[0]) + " |\n",
        "| " + " | ".join("-" * len(cell) for cell in rows[0]) + " |\n",
    ]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |\n" for row in rows[1:]]
    return "".join(lines)


# -- workbooks ------------------------------------------------------------------------------


def _blank(row: Row) -> bool:
    return all(value is None or value == "" for value in row)


def _trimmed(rows: Iterable[Row], budget: Budget) -> list[Row]:
    """Rows without their trailing empty cells, trailing blank rows dropped."""
    kept: list[Row] = []
    for row in rows:
        budget.row()
        values = [None if value == "" else value for value in row]
        while values and values[-1] is None:
            values.pop()
        kept.append(values)
    while kept and not kept[-1]:
        kept.pop()
    return kept


def _header(row: Row, width: int) -> list[str]:
    """pandas' column names: `Unnamed: i` for an empty cell, `.1`, `.2` on repeats."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for index in range(width):
        value = row[index] if index < len(row) else None
        name = f"Unnamed: {index}" if value is None else " ".join(str(value).splitlines())
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _column_kind(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "float"
    if all(isinstance(v, bool) for v in present):
        return "bool" if len(present) == len(values) else "float"  # pandas: 1.0, 0.0, nan
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int" if len(present) == len(values) else "float"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "float"
    if all(isinstance(v, datetime.datetime) for v in present):
        return "datetime"
    return "object"


def _render(value: Any, kind: str) -> str:
    if value is None:
        return "NaT" if kind == "datetime" else "nan"
    if kind == "float":
        return str(float(value))
    if isinstance(value, str):
        return " ".join(value.splitlines())
    return str(value)


def _sheet_table(rows: list[Row]) -> str:
    width = max((len(row) for row in rows), default=0)
    columns = _header(rows[0], width) if rows else []
    body = [row + [None] * (width - len(row)) for row in rows[1:]]
    kinds = [_column_kind([row[i] for row in body]) for i in range(width)]
    lines = [
        "| " + " | ".join(columns) + " |",
        "| " + " | ".join("-" * len(name) for name in columns) + " |",
    ]
    for row in body:
        if _blank(row):
            continue
        cells = [_render(value, kind) for value, kind in zip(row, kinds, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _workbook_text(sheets: Iterator[Iterable[Row]], budget: Budget) -> str:
    tables: list[str] = []
    for rows in sheets:
        budget.tick()
        tables.append(_sheet_table(_trimmed(rows, budget)) + "\n\n")
    return "".join(tables)


def _xlsx_sheets(content: bytes) -> Iterator[Iterable[Row]]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True, keep_links=False)
    try:
        for sheet in workbook.worksheets:
            yield (list(row) for row in sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def _xls_value(cell: Any, datemode: int) -> Any:
    import xlrd

    kind = cell.ctype
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return None
    if kind == xlrd.XL_CELL_NUMBER:
        number = float(cell.value)
        return int(number) if number.is_integer() else number
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if kind == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, datemode)
        except (ValueError, OverflowError):
            return cell.value
    return cell.value


def _xls_sheets(content: bytes) -> Iterator[Iterable[Row]]:
    import xlrd

    book = xlrd.open_workbook(file_contents=content, on_demand=True)
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            yield (
                [_xls_value(cell, book.datemode) for cell in sheet.row(r)]
                for r in range(sheet.nrows)
            )
    finally:
        book.release_resources()


def _is_xls(content: bytes) -> bool:
    return content.startswith(b"\xd0\xcf\x11\xe0")  # an OLE2 compound file


def excel_text(content: bytes, budget: Budget) -> str:
    """xlsx through openpyxl, legacy xls (an OLE2 file, whatever its name) through xlrd."""
    sheets = _xls_sheets(content) if _is_xls(content) else _xlsx_sheets(content)
    return _workbook_text(sheets, budget)
