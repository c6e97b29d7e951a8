"""The periodic report as an Excel workbook: a title row naming the org and the period, the
headings in Vietnamese with the English beside them, then a row per rule.

Counts and shares are written as numbers with a number format (`#,##0`, `0.0%`), not as
text, so the spreadsheet shows them with the reader's own decimal and grouping signs and can
still add them up.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from services.web.domain.words import LABELS, MODES

HEADINGS = (
    ("rule_id", "Mã quy tắc", "Rule id"),
    ("title", "Quy tắc", "Rule"),
    ("mode", LABELS["mode"].vi, LABELS["mode"].en),
    ("cells_judged", LABELS["cells_judged"].vi, LABELS["cells_judged"].en),
    ("cells_violated", LABELS["cells_violated"].vi, LABELS["cells_violated"].en),
    ("compliant_percent", LABELS["compliant_percent"].vi, LABELS["compliant_percent"].en),
)
COUNT_FORMAT, SHARE_FORMAT = "#,##0", "0.0%"
TITLE_ROW, HEADING_ROW = 1, 3
WIDTHS = (26, 60, 18, 20, 20, 16)


def report_workbook(
    org_name: str, period_vi: str, period_en: str, rows: Sequence[Mapping[str, Any]]
) -> bytes:
    """The workbook of the report `rows` (the rules API's summary) of `org_name` over the
    period named `period_vi` / `period_en`, as the bytes of an .xlsx file."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its one sheet
    sheet.title = "Báo cáo - Report"
    title = f"{LABELS['report'].vi} / {LABELS['report'].en}: {org_name}, {period_vi} / {period_en}"
    sheet.cell(TITLE_ROW, 1, title).font = Font(bold=True, size=14)
    sheet.merge_cells(
        start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=len(HEADINGS)
    )
    for column, (_, vi, en) in enumerate(HEADINGS, start=1):
        heading = sheet.cell(HEADING_ROW, column, f"{vi} ({en})")
        heading.font = Font(bold=True)
        heading.alignment = Alignment(wrap_text=True, vertical="top")
    for offset, row in enumerate(rows, start=1):
        line = HEADING_ROW + offset
        mode = MODES.get(str(row["mode"]))
        values = (
            row["rule_id"],
            f"{row['title_vi']} ({row['title_en']})",
            f"{mode.vi} ({mode.en})" if mode else row["mode"],
            row["cells_judged"],
            row["cells_violated"],
            None if row["compliant_percent"] is None else row["compliant_percent"] / 100,
        )
        for column, value in enumerate(values, start=1):
            sheet.cell(line, column, value)
        sheet.cell(line, 4).number_format = COUNT_FORMAT
        sheet.cell(line, 5).number_format = COUNT_FORMAT
        sheet.cell(line, 6).number_format = SHARE_FORMAT
        sheet.cell(line, 2).alignment = Alignment(wrap_text=True, vertical="top")
    for column, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = f"A{HEADING_ROW + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
