"""The spreadsheet mapping: each way a person gets a sheet wrong is refused at its cell, named in
Vietnamese with English beside, and the right rows become the contract's events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook

from services.contracts.calendar import VIETNAM
from services.contracts.events import (
    CellRegisteredEvent,
    Event,
    MeetingHeldEvent,
    OrgRegisteredEvent,
)
from services.rules.adapters.workbook import SpreadsheetError, sheets_of
from services.rules.domain.authority import Places, WriteScope, outside
from services.rules.domain.sheets import (
    LAYOUTS,
    Mapper,
    Planned,
    Problem,
    SheetKind,
    recognise,
    scope_message,
)
from tests.builders import cell as builder_cell
from tests.builders import meeting as builder_meeting
from tests.builders import org

STAMP = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
ORG_HEAD = ["Mã tổ chức", "Tên tổ chức", "Mã tổ chức cấp trên", "Xét từ ngày"]
CELL_HEAD = [c.vi for c in LAYOUTS[SheetKind.cells].columns]
MEETING_HEAD = [c.vi for c in LAYOUTS[SheetKind.meetings].columns]
# Mã chi bộ, Mã buổi, Ngày họp, Giờ bắt đầu, Loại, Kết hợp chuyên đề, Thời lượng, Tổng số,
# Miễn, Có mặt, Vắng có lý do, Vắng không lý do, Nhóm chuyên đề, Phê bình, HCM
GOOD = ["cb-1", "m-1", "05/03/2025", "19:30", "thường kỳ", "không", 120, 12, 1, 9, "dv-7",
        None, None, "có", "có"]  # fmt: skip


def mapped(
    name: str, rows: Sequence[Sequence[object]], mapper: Mapper | None = None
) -> tuple[list[Planned], list[Problem]]:
    """The events and problems of one sheet whose first row is its header."""
    mapper = mapper or Mapper(STAMP)
    sheet = recognise(name, [tuple(r) for r in rows[:10]], mapper.problems)
    if sheet is None:
        return [], mapper.problems
    numbered = [(n, r) for n, r in enumerate(rows, start=1) if n > sheet.header_row]
    return list(mapper.rows(sheet, numbered)), mapper.problems


def meeting(**changes: object) -> list[object]:
    row = list(GOOD)
    for key, value in changes.items():
        row[[c.key for c in LAYOUTS[SheetKind.meetings].columns].index(key)] = value
    return row


def refusals(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems if p.severity == "error"]


def test_a_good_meeting_row_is_the_contracts_meeting_held_in_vietnam_time() -> None:
    planned, problems = mapped("Sinh hoạt", [MEETING_HEAD, GOOD])

    assert problems == []
    event = planned[0].event
    assert isinstance(event, MeetingHeldEvent)
    assert event.time == STAMP
    assert event.subject == "cb-1"
    assert event.id.startswith("xl-")
    data = event.data
    assert data.held_at == datetime(2025, 3, 5, 19, 30, tzinfo=VIETNAM)
    assert (data.meeting_id, data.kind, data.duration_minutes) == ("m-1", "regular", 120)
    assert (data.members_total, data.members_exempt, data.members_present) == (12, 1, 9)
    assert [(a.member_id, a.excused) for a in data.absences] == [("dv-7", True)]
    assert data.criticism_held
    assert data.hcm_study
    assert not data.includes_thematic


def test_the_same_row_is_the_same_event_and_a_corrected_row_a_new_one() -> None:
    first, _ = mapped("Sinh hoạt", [MEETING_HEAD, GOOD])
    again, _ = mapped("Sinh hoạt", [MEETING_HEAD, GOOD])
    corrected, _ = mapped("Sinh hoạt", [MEETING_HEAD, meeting(duration=90)])

    assert first[0].event.id == again[0].event.id
    assert corrected[0].event.id != first[0].event.id
    assert corrected[0].event.data.meeting_id == "m-1"  # type: ignore[union-attr]


def test_text_in_a_number_column_is_refused_at_its_cell() -> None:
    planned, problems = mapped("Sinh hoạt", [MEETING_HEAD, meeting(duration="hai tiếng")])

    assert planned == []
    assert refusals(problems) == [
        "Sinh hoạt!G2: “hai tiếng” không phải là số nguyên (“hai tiếng” is not a whole number)"
    ]


def test_a_day_not_in_the_calendar_is_refused() -> None:
    _, problems = mapped("Sinh hoạt", [MEETING_HEAD, meeting(held_on="31/02/2025")])

    assert refusals(problems) == [
        "Sinh hoạt!C2: ngày “31/02/2025” không có trong lịch "
        "(“31/02/2025” is not a day of the calendar)"
    ]


def test_an_unknown_cell_type_is_refused_naming_the_choices_in_both_languages() -> None:
    row = ["cb-1", "Chi bộ 1", "xa-1", "trường học", "không", "01/01/2020", None]
    _, problems = mapped("Chi bộ", [CELL_HEAD, row])

    (refusal,) = refusals(problems)
    assert refusal.startswith("Chi bộ!D2: “trường học” không phải loại hình nào; chọn nông thôn")
    assert "công an hoặc khác" in refusal
    assert "police or other)" in refusal


def test_every_wrong_cell_of_a_row_is_named_not_only_the_first() -> None:
    row = meeting(held_on="hôm qua", kind="họp mặt", total="mười", criticism="chắc có")
    _, problems = mapped("Sinh hoạt", [MEETING_HEAD, row])

    assert [p.cell for p in problems] == ["C2", "E2", "H2", "N2"]


def test_a_repeated_meeting_is_reported_and_only_the_first_row_kept() -> None:
    rows = [MEETING_HEAD, GOOD, meeting(duration=60), GOOD]
    planned, problems = mapped("Sinh hoạt", rows)

    assert [p.row for p in planned] == [2]
    assert [str(p) for p in problems] == [
        "Sinh hoạt!B3: trùng với dòng 2 nhưng khác nội dung; bỏ dòng này "
        "(repeats row 2 with other values; row skipped)",
        "Sinh hoạt!B4: trùng với dòng 2 (giống hệt), bỏ qua (repeats row 2 (identical), skipped)",
    ]
    assert [p.severity for p in problems] == ["error", "warning"]


def test_a_meeting_without_an_id_is_known_by_its_cell_day_and_kind() -> None:
    rows = [MEETING_HEAD, meeting(meeting_id=None), meeting(meeting_id=None, start="08:00")]
    planned, problems = mapped("Sinh hoạt", rows)

    assert planned[0].event.data.meeting_id == "cb-1-20250305-regular"  # type: ignore[union-attr]
    assert [p.cell for p in problems] == ["C3"]  # the day, which makes it the same meeting


def test_yes_and_no_in_any_case_and_with_spaces_around_are_read() -> None:
    rows = [MEETING_HEAD, meeting(criticism="Có", hcm_study=" CÓ  ", includes_thematic="Không ")]
    planned, problems = mapped("Sinh hoạt", rows)

    data = planned[0].event.data
    assert problems == []
    assert data.criticism_held
    assert data.hcm_study
    assert not data.includes_thematic  # type: ignore[union-attr]


def test_headers_match_whatever_their_case_and_the_spaces_around_them_and_in_english() -> None:
    head = [" mã tổ chức ", "TÊN TỔ CHỨC", "Parent org id", "judged from"]
    planned, problems = mapped("Sheet1", [head, ["xa-1", "Xã 1", None, "01/01/2024"]])

    assert problems == []
    event = planned[0].event
    assert isinstance(event, OrgRegisteredEvent)
    assert event.data.judged_from == date(2024, 1, 1)
    assert event.data.parent_id is None


def test_a_header_is_found_below_a_title_and_unknown_columns_are_named() -> None:
    row = ["cb-1", "Chi bộ 1", "xa-1", "Nông thôn", "có", date(2020, 1, 1), None, "x"]
    rows = [["Danh sách chi bộ"], [*CELL_HEAD, "Ghi chú"], row]
    planned, problems = mapped("Chi bộ", rows)

    assert isinstance(planned[0].event, CellRegisteredEvent)
    assert planned[0].event.data.cell_type == "rural"
    assert planned[0].event.data.has_committee
    assert [(p.cell, p.severity) for p in problems] == [("H2", "warning")]


def test_a_missing_required_column_refuses_the_sheet_naming_the_column() -> None:
    _, problems = mapped("Chi bộ", [CELL_HEAD[:3], ["cb-1", "Chi bộ 1", "xa-1"]])

    assert refusals(problems) == [
        "Chi bộ!A1: thiếu cột “Loại hình” và “Ngày thành lập”; không nhập trang này "
        "(missing column “Cell type” and “Established on”; sheet not imported)"
    ]


def test_contract_limits_are_told_at_the_cell_in_vietnamese() -> None:
    rows = [MEETING_HEAD, meeting(duration=2000), meeting(meeting_id="m 2"),
            meeting(meeting_id="m-3", duration=0)]  # fmt: skip
    _, problems = mapped("Sinh hoạt", rows)

    assert refusals(problems) == [
        "Sinh hoạt!G2: không được lớn hơn 1.440 (must be at most 1,440)",
        "Sinh hoạt!B3: mã chỉ được gồm chữ cái không dấu, chữ số, _ hoặc -, dài 1 đến 64 ký tự "
        "(an id holds 1 to 64 letters, digits, _ or -)",
        "Sinh hoạt!G4: phải là số nguyên từ 1 trở lên (must be a whole number of at least 1)",
    ]


def test_members_are_counted_from_ids_or_numbers_and_must_fit_the_total() -> None:
    rows = [
        MEETING_HEAD,
        meeting(present="a, b, c", exempt="x", excused=None, unexcused="d"),
        meeting(meeting_id="m-2", present=11, exempt=2, excused="e"),
        meeting(meeting_id="m-3", present="a,b", excused="b"),
    ]
    planned, problems = mapped("Sinh hoạt", rows)

    data = planned[0].event.data
    assert (data.members_present, data.members_exempt) == (3, 1)  # type: ignore[union-attr]
    assert [(a.member_id, a.excused) for a in data.absences] == [("d", False)]  # type: ignore[union-attr]
    assert [p.cell for p in problems] == ["J3", "K4"]
    assert "vượt quá 10 đảng viên phải dự" in problems[0].vi
    assert problems[1].vi == "đảng viên b đã được ghi ở ô J4"


def test_excel_date_and_time_cells_and_topic_groups_are_read() -> None:
    row = meeting(held_on=datetime(2025, 4, 2), start=time(7, 15), kind="chuyên đề",
                  topic_groups="3, 5", present=11, excused=None)  # fmt: skip
    planned, problems = mapped("Sinh hoạt", [MEETING_HEAD, row])

    assert problems == []
    data = planned[0].event.data
    assert data.held_at == datetime(2025, 4, 2, 7, 15, tzinfo=VIETNAM)  # type: ignore[union-attr]
    assert data.topic_groups == [3, 5]
    assert data.kind == "thematic"


def test_a_start_time_left_blank_is_eight_in_the_morning() -> None:
    planned, _ = mapped("Sinh hoạt", [MEETING_HEAD, meeting(start=None)])

    assert planned[0].event.data.held_at.hour == 8  # type: ignore[union-attr]


@pytest.mark.parametrize("groups", ["6", "1,1", "một"])
def test_a_topic_group_outside_one_to_five_or_repeated_is_refused(groups: str) -> None:
    _, problems = mapped("Sinh hoạt", [MEETING_HEAD, meeting(topic_groups=groups)])

    assert [p.cell for p in refusals_of(problems)] == ["M2"]


def refusals_of(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def test_a_sheet_neither_named_nor_headed_like_ours_is_skipped_with_a_warning() -> None:
    _, problems = mapped("Ghi chú", [["Họ tên", "Ghi chú"], ["a", "b"]])

    assert [(p.sheet, p.severity) for p in problems] == [("Ghi chú", "warning")]


def test_a_merged_header_cell_is_read_from_its_first_column(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Tổ chức"
    sheet.append(["Mã tổ chức", "Tên tổ chức", None, "Mã tổ chức cấp trên"])
    sheet.merge_cells("B1:C1")  # the name's header spans two columns; the name is in B
    sheet.append(["xa-1", "Xã 1", None, None])
    sheet.append(["xa-2", "Xã 2", None, "xa-1"])
    path = tmp_path / "merged.xlsx"
    book.save(path)

    mapper = Mapper(STAMP)
    with sheets_of(path) as (raw,):
        found = recognise(raw.name, raw.head, mapper.problems)
        assert found is not None
        rows = [(n, r) for n, r in raw.rows if n > found.header_row]
        planned = list(mapper.rows(found, rows))

    assert mapper.problems == []
    assert [p.event.data.parent_id for p in planned] == [None, "xa-1"]  # type: ignore[union-attr]


def test_a_csv_file_is_one_sheet_known_by_its_headers_and_named_by_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "chi-bo.csv"
    text = ";".join(CELL_HEAD) + "\n" + "cb-1;Chi bộ 1;xa-1;đô thị;;01/01/2020;\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())  # Excel's "CSV UTF-8", semicolons

    mapper = Mapper(STAMP)
    with sheets_of(path) as (raw,):
        found = recognise(raw.name, raw.head, mapper.problems)
        assert found is not None
        assert found.kind == SheetKind.cells
        planned = list(mapper.rows(found, [(n, r) for n, r in raw.rows if n > 1]))

    assert planned[0].event.data.cell_type == "urban"  # type: ignore[union-attr]
    assert planned[0].sheet.name == "chi-bo.csv"


@pytest.mark.parametrize(
    ("name", "content", "vi", "en"),
    [
        ("lich.txt", b"x", "chỉ đọc tệp .xlsx và .csv", "only .xlsx and .csv files are read"),
        ("hong.xlsx", b"not a zip", "không đọc được sổ tính .xlsx", "not a readable .xlsx"),
        (
            "cu.csv",
            b"M\xe3 chi b\xf4\nchi-1\n",  # Latin-1, as an old spreadsheet saves it
            "không phải văn bản UTF-8",
            "not UTF-8",
        ),
        ("mat.xlsx", None, "không có tệp này", "no such file"),
    ],
)
def test_a_file_that_cannot_be_read_is_told_so_in_vietnamese_then_english(
    tmp_path: Path, name: str, content: bytes | None, vi: str, en: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SpreadsheetError) as refused:
        _read_all(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ")
    assert message.index(vi) < message.index(" — ") < message.index(en), message


def _read_all(path: Path) -> None:
    with sheets_of(path) as sheets:
        for sheet in sheets:
            list(sheet.rows)


def test_every_refusal_of_a_token_s_scope_reads_in_vietnamese_then_english() -> None:
    def refused(scope: WriteScope, *events: Event) -> list[str]:
        places = Places(subtree={"xa-a"}, orgs={"xa-a", "xa-b"}, cells={"cb-b": "xa-b"},
                        meetings={"m-b": "cb-b"})  # fmt: skip
        return [r.message for r in outside(list(events), scope, places)]

    commune, one_cell = WriteScope(org="xa-a", cell=None), WriteScope(org=None, cell="cb-a")
    messages = refused(
        commune,
        org("thon-x", "Thôn X", parent_id="xa-b"),
        org("xa-b", "Xã B", parent_id="xa-a"),
        builder_cell("cb-x", org_id="xa-b"),
        builder_cell("cb-b", org_id="xa-a"),
        builder_meeting("m-x", "cb-b", "2025-03-05T19:30:00+07:00"),
    ) + refused(one_cell, org("thon-y", "Thôn Y", parent_id="xa-a"))
    assert len(messages) == 6
    told = [scope_message(message) for message in messages]
    assert all(t is not None for t in told), messages
    vi = [t[0] for t in told if t is not None]
    assert vi == [
        "tài khoản này chỉ đăng ký được tổ chức thuộc tổ chức xa-a",
        "tổ chức xa-b không thuộc tổ chức xa-a",
        "tài khoản này chỉ đăng ký được chi bộ thuộc tổ chức xa-a",
        "chi bộ cb-b đã được đăng ký ở ngoài tổ chức xa-a",
        "chi bộ cb-b chưa được đăng ký thuộc tổ chức xa-a",
        "tài khoản này (chỉ cho chi bộ cb-a) không được đăng ký tổ chức",
    ]
    assert [t[1] for t in told if t is not None] == messages  # the English is the API's own
    assert scope_message("Expected `int` >= 0") is None
