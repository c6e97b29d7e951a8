"""The org page's pure parts: the cells table sorted and filtered, the heat map's and the
trend's geometry, and the report as a workbook."""

from __future__ import annotations

import io
import itertools
from typing import Any

import openpyxl
import pytest

from services.web.domain import charts, periods
from services.web.domain.table import (
    Page,
    TableQuery,
    arrange,
    folded,
    page_link,
    page_of,
    sort_link,
    sorted_as,
)
from services.web.domain.workbook import report_workbook


def cell(cell_id: str, name: str, score: int | None, band: str | None, **kw: Any) -> dict:  # type: ignore[type-arg]
    scored = None if score is None else {"score": score, "band": band}
    return {
        "cell_id": cell_id, "name": name, "cell_type": kw.get("cell_type", "rural"),
        "open_findings": kw.get("open_findings", 0), "score": scored,
        "last_regular_meeting_on": kw.get("last"), "case": kw.get("case"),
    }  # fmt: skip


ROWS = [
    cell("c-1", "Chi bộ Ấp Đông", 95, "excellent", last="2025-11-10"),
    cell("c-2", "Chi bộ Bến Đò", 40, "not_complete", open_findings=7, case={"state": "planned"}),
    cell("c-3", "Chi bộ Cầu Kè", 72, "good", open_findings=1, last="2025-03-02"),
    cell("c-4", "Chi bộ Đá Bạc", None, None),
]


def ids(rows: list[Any]) -> list[str]:
    return [r["cell_id"] for r in rows]


def test_cells_sort_by_name_unless_asked_otherwise() -> None:
    assert ids(arrange(ROWS, TableQuery())) == ["c-1", "c-2", "c-3", "c-4"]
    assert ids(arrange(ROWS, TableQuery(dir="desc"))) == ["c-4", "c-3", "c-2", "c-1"]


def test_a_column_with_nothing_in_it_sorts_last_either_way() -> None:
    assert ids(arrange(ROWS, TableQuery(sort="score"))) == ["c-2", "c-3", "c-1", "c-4"]
    assert ids(arrange(ROWS, TableQuery(sort="score", dir="desc"))) == ["c-1", "c-3", "c-2", "c-4"]
    assert ids(arrange(ROWS, TableQuery(sort="last_meeting", dir="desc"))) == [
        "c-1", "c-3", "c-2", "c-4",
    ]  # fmt: skip
    assert ids(arrange(ROWS, TableQuery(sort="case"))) == ["c-2", "c-1", "c-3", "c-4"]


def test_a_band_sorts_as_its_scores_do() -> None:
    assert ids(arrange(ROWS, TableQuery(sort="band", dir="desc"))) == ["c-1", "c-3", "c-2", "c-4"]


def test_filters_narrow_by_band_text_without_marks_and_open_findings() -> None:
    assert ids(arrange(ROWS, TableQuery(band="good"))) == ["c-3"]
    assert ids(arrange(ROWS, TableQuery(band="not_judged"))) == ["c-4"]
    assert ids(arrange(ROWS, TableQuery(text="ben do"))) == ["c-2"]
    assert ids(arrange(ROWS, TableQuery(text="C-3"))) == ["c-3"]
    assert ids(arrange(ROWS, TableQuery(open_only=True, sort="open", dir="desc"))) == ["c-2", "c-3"]
    assert folded("Đảng bộ Xã") == "dang bo xa"


def test_a_sort_link_flips_its_own_column_and_keeps_every_other_parameter() -> None:
    base = {"year": "2025", "period": "Q1"}
    query = TableQuery(sort="score", band="good", text="đông", open_only=True)
    link = sort_link(base, query, "score")
    assert link == "?year=2025&period=Q1&sort=score&dir=desc&band=good&q=%C4%91%C3%B4ng&open=1"
    assert (
        sort_link(base, query, "cell") == "?year=2025&period=Q1&band=good&q=%C4%91%C3%B4ng&open=1"
    )
    assert (sorted_as(query, "score"), sorted_as(query, "band")) == ("ascending", "none")


def test_the_table_is_read_a_page_at_a_time_and_a_sort_starts_again_on_page_one() -> None:
    rows = [{"cell_id": f"c-{i:04d}", "name": f"Chi bộ {i:04d}"} for i in range(250)]
    arranged = arrange(rows, TableQuery())
    shown, at = page_of(arranged, TableQuery(page=2))
    assert (at.number, at.count, at.first, at.last, at.matching) == (2, 3, 101, 200, 250)
    assert ids(shown) == [f"c-{i:04d}" for i in range(100, 200)]
    # Beyond the last page is the last page; nothing matching is one empty page.
    shown, at = page_of(arranged, TableQuery(page=9))
    assert (at.number, len(shown), at.first, at.last) == (3, 50, 201, 250)
    assert page_of([], TableQuery(page=2))[1] == Page(
        number=1, count=1, first=0, last=0, matching=0
    )
    base = {"year": "2025"}
    query = TableQuery(sort="score", band="good", page=3)
    assert page_link(base, query, 4) == "?year=2025&sort=score&band=good&page=4"
    assert page_link(base, query, 1) == "?year=2025&sort=score&band=good"
    assert sort_link(base, query, "score") == "?year=2025&sort=score&dir=desc&band=good"


def test_the_heat_map_draws_twelve_squares_a_cell_and_at_most_its_limit() -> None:
    marks = ["passed"] * 3 + ["violated", "not_active", "not_ended"] + ["passed"] * 6
    cells = [(f"c-{i}", f"Chi bộ số {i} có một cái tên rất dài", marks) for i in range(5)]
    heat = charts.heat_map(cells, limit=3)
    assert (heat.shown, heat.total, len(heat.rows)) == (3, 5, 3)
    first = heat.rows[0]
    assert [s.kind for s in first.squares[2:6]] == ["held", "missed", "not-judged", "not-judged"]
    assert first.short == "Chi bộ số 0 có một\u2026"
    assert len(first.short) == 19  # cut at 20, the space before the ellipsis dropped
    # Squares do not overlap, and the drawing holds them all.
    xs = [s.x for s in first.squares]
    assert all(b - a >= heat.size for a, b in itertools.pairwise(xs))
    assert xs[-1] + heat.size <= heat.width
    assert heat.rows[-1].squares[0].y + heat.size <= heat.height


def test_the_trend_breaks_its_line_where_nothing_was_judged() -> None:
    chart = charts.line_chart([("r", [100.0, 50.0, None, 0.0, 25.0]), ("s", [None] * 5)], 5)
    line = chart.series[0]
    assert [p.index for p in line.points] == [0, 1, 3, 4]
    assert len(line.runs) == 2
    full, half, empty = line.points[0].y, line.points[1].y, line.points[2].y
    assert (full, empty) == (chart.top, chart.bottom)
    assert half == pytest.approx((chart.top + chart.bottom) / 2)
    assert chart.series[1].points == []
    assert chart.series[1].runs == []
    assert [t.value for t in chart.ticks] == [0, 25, 50, 75, 100]


def test_periods_are_coded_for_the_api_and_named_by_the_locale() -> None:
    assert [periods.code(2025, p) for p in ("year", "Q2", "03")] == ["2025", "2025-Q2", "2025-03"]
    assert periods.name(2025, "Q2", "vi") == "quý II/2025"
    assert periods.name(2025, "03", "en") == "March 2025"
    assert all(periods.known(p) for p in periods.PARTS)
    assert not periods.known("Q5")


def test_the_workbook_has_a_title_headings_in_both_languages_and_numbers_as_numbers() -> None:
    rows = [
        {"rule_id": "regular-meeting-monthly", "title_vi": "Sinh hoạt hằng tháng",
         "title_en": "Monthly meetings", "mode": "enforce", "cells_judged": 1234,
         "cells_violated": 3, "compliant_percent": 99.8},
        {"rule_id": "x", "title_vi": "Thử", "title_en": "Trial", "mode": "shadow",
         "cells_judged": 0, "cells_violated": 0, "compliant_percent": None},
    ]  # fmt: skip
    body = report_workbook("Đảng bộ xã A", "quý I/2025", "Q1 2025", rows)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    assert (
        sheet["A1"].value == "Báo cáo định kỳ / Periodic report: Đảng bộ xã A, quý I/2025 / Q1 2025"
    )
    assert sheet["D3"].value == "Số chi bộ được đánh giá (Cells judged)"
    assert (sheet["D4"].value, sheet["D4"].number_format) == (1234, "#,##0")
    assert (sheet["F4"].value, sheet["F4"].number_format) == (pytest.approx(0.998), "0.0%")
    assert sheet["C4"].value == "áp dụng (enforced)"
    assert sheet["F5"].value is None
