"""Spreadsheet files: the sheets of an `.xlsx` workbook or a `.csv` file read row by row, and
the import template written.

A workbook is read with python-calamine (its reader is native code: reading cells was most of
an import's own time with openpyxl) and the template written with openpyxl. A CSV file is one
sheet, named by the file, whose kind its headers tell (`services/rules/domain/sheets.py`). CSV
as Excel writes it is read: UTF-8 with or without a byte-order mark, separated by commas or,
as Excel does where the comma is the decimal mark (Vietnam), by semicolons.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import NamedTuple

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineSheet, CalamineWorkbook

from services.rules.domain.sheets import HEADER_SEARCH_ROWS, LAYOUTS, SheetKind
from services.rules.errors import RulesError

Rows = Iterator[tuple[int, Sequence[object]]]
"""A sheet's rows as (row number from 1, the row's values)."""


class SpreadsheetError(RulesError):
    """A file that cannot be read as a spreadsheet at all."""


class RawSheet(NamedTuple):
    """One sheet of a file: its name, its first rows (where the header is), its rows, and
    about how many rows it has (for a progress bar: asked only when one is drawn, since a
    workbook that does not record its size must be read through to tell it)."""

    name: str
    head: list[Sequence[object]]
    rows: Iterator[tuple[int, Sequence[object]]]
    size: Callable[[], int]


def sheets_of(path: Path) -> AbstractContextManager[list[RawSheet]]:
    """The sheets of `path`, an `.xlsx` workbook or a `.csv` file, open while in the block."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _workbook_sheets(path)
    if suffix == ".csv":
        return _csv_sheets(path)
    raise SpreadsheetError(
        f"{path}: chỉ đọc tệp .xlsx và .csv, không đọc {suffix or path}"
        f" — only .xlsx and .csv files are read (not {suffix or path})"
    )


@contextmanager
def _workbook_sheets(path: Path) -> Iterator[list[RawSheet]]:
    if not path.is_file():  # calamine tells a missing file only inside its one error kind
        raise SpreadsheetError(f"{path}: không có tệp này — no such file")
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises one error kind for zip, XML and format faults
        raise SpreadsheetError(
            f"{path}: không đọc được sổ tính .xlsx — not a readable .xlsx workbook ({exc})"
        ) from None
    try:
        found = []
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            found.append(RawSheet(name, _first_rows(sheet), _rows_of(sheet), _size_of(sheet)))
        yield found
    finally:
        book.close()


def _rows_of(sheet: CalamineSheet) -> Rows:
    # Calamine reads from the first cell that holds anything: rows and columns before it are
    # put back, so row numbers and column letters are the sheet's own.
    first_row, first_column = sheet.start or (0, 0)
    pad: tuple[object, ...] = ("",) * first_column
    for number, row in enumerate(sheet.iter_rows(), start=first_row + 1):
        yield number, pad + tuple(row)


def _first_rows(sheet: CalamineSheet) -> list[Sequence[object]]:
    first_row = (sheet.start or (0, 0))[0]
    head: list[Sequence[object]] = [()] * min(first_row, HEADER_SEARCH_ROWS)
    for _, row in zip(range(HEADER_SEARCH_ROWS - len(head)), _rows_of(sheet), strict=False):
        head.append(row[1])
    return head


def _size_of(sheet: CalamineSheet) -> Callable[[], int]:
    return lambda: int(sheet.total_height or 0)


_NOT_UTF8 = (
    "{path}: không phải văn bản UTF-8 (hãy lưu dưới dạng CSV UTF-8)"
    " — not UTF-8 text (save it as CSV UTF-8)"
)


@contextmanager
def _csv_sheets(path: Path) -> Iterator[list[RawSheet]]:
    try:
        text = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise SpreadsheetError(
            f"{path}: không mở được tệp — cannot be opened: {exc.strerror}"
        ) from None
    with text:
        try:
            sample = text.read(64 * 1024)
        except UnicodeDecodeError:
            raise SpreadsheetError(_NOT_UTF8.format(path=path)) from None
        first = sample.splitlines()[0] if sample else ""
        delimiter = ";" if first.count(";") > first.count(",") else ","
        head = list(csv.reader(io.StringIO(sample), delimiter=delimiter))[:HEADER_SEARCH_ROWS]
        text.seek(0)
        rows = _numbered(csv.reader(text, delimiter=delimiter), path)
        lines = max(1, sample.count("\n"))
        size = lines if len(sample) < 64 * 1024 else path.stat().st_size * lines // len(sample)
        yield [RawSheet(path.name, [tuple(r) for r in head], rows, lambda: size)]


def _numbered(reader: Iterator[list[str]], path: Path) -> Rows:
    try:
        yield from enumerate(reader, start=1)
    except UnicodeDecodeError:
        raise SpreadsheetError(_NOT_UTF8.format(path=path)) from None


def write_template(out: Path) -> None:
    """Write the import template: the three sheets with their headers (Vietnamese), each
    header carrying a note in English, and drop-down lists where a column has choices."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    choices = {
        "cell_type": ["nông thôn", "đô thị", "cơ quan", "đơn vị sự nghiệp", "doanh nghiệp",
                      "quân đội", "công an", "khác"],
        "kind": ["thường kỳ", "chuyên đề", "chi ủy"],
    }  # fmt: skip
    yes_no = ["có", "không"]
    yes_no_columns = {"has_committee", "includes_thematic", "criticism", "hcm_study"}
    for kind in SheetKind:
        layout = LAYOUTS[kind]
        sheet = book.create_sheet(layout.vi)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(layout.columns, start=1):
            cell = sheet.cell(row=1, column=index, value=column.vi)
            cell.font, cell.fill = bold, fill
            note = f"{column.en}" + (f" — {column.hint}" if column.hint else "")
            note += "\nBắt buộc / required" if column.required else "\nKhông bắt buộc / optional"
            cell.comment = Comment(note, "Chibo")
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = max(14, len(column.vi) + 4)
            listed = choices.get(column.key) or (yes_no if column.key in yes_no_columns else None)
            if listed:
                rule = DataValidation(type="list", formula1='"' + ",".join(listed) + '"')
                rule.error = "Chọn một giá trị trong danh sách / choose one of the list"
                rule.add(f"{letter}2:{letter}100000")
                sheet.add_data_validation(rule)
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
