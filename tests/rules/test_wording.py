"""What the default rules say, word for word, in Vietnamese and English: a month, a quarter, a
year, a meeting, a gap and a member, violated and passed."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from services.contracts.findings import Finding
from services.rules.adapters.files import read_rules
from services.rules.domain.evaluate import evaluate
from services.rules.domain.explain import year_rows
from tests.builders import RULES, cell, default_pack, facts_of, meeting, monthly

EVENTS = [
    cell("c1", has_committee=True, established_on="2024-01-01"),
    # January to April: dv-1 absent without reason three months running, dv-2 excused from
    # four meetings in a row; January's meeting poorly attended and without criticism.
    meeting(
        "m-jan", "c1", "2024-01-10T19:00:00+07:00", members_total=8, members_exempt=1,
        members_present=2, criticism_held=False, hcm_study=False,
        absences=[{"member_id": "dv-1", "excused": False}]
        + [{"member_id": f"dv-{n}", "excused": True} for n in range(2, 6)],
    ),
    *(
        meeting(
            f"m-{month}", "c1", f"2024-{number:02d}-10T19:00:00+07:00", hcm_study=False,
            absences=[{"member_id": "dv-1", "excused": False},
                      {"member_id": "dv-2", "excused": True}],
        )
        for month, number in (("feb", 2), ("mar", 3))
    ),
    meeting("m-apr", "c1", "2024-04-10T19:00:00+07:00",
            absences=[{"member_id": "dv-2", "excused": True}]),
    # Nothing in May and June; a thematic meeting in July on two of the three groups.
    meeting("m-jul", "c1", "2024-07-10T19:00:00+07:00", kind="thematic", topic_groups=[3, 5]),
    *monthly("c1", date(2024, 8, 1), 5),
    # After 28 October 2025 a meeting must last 90 minutes.
    cell("c2", established_on="2025-01-01"),
    meeting("m-short", "c2", "2025-11-05T08:00:00+07:00", duration_minutes=80),
]  # fmt: skip


def _judged(until: str) -> dict[tuple[str, str, str], Finding]:
    found = evaluate(default_pack().rules, facts_of(EVENTS), date.fromisoformat(until), passes=True)
    return {f.key: f for f in found}


JUDGED = _judged("2026-01-01")

SAID = {
    ("regular-meeting-monthly", "c1", "2024-05"): (
        "Tháng 5/2024: chi bộ sinh hoạt thường kỳ 0 lần; cần ít nhất 1 lần.",
        "May 2024: regular meetings: 0; at least 1 required.",
    ),
    ("committee-meeting-monthly", "c1", "2024-02"): (
        "Tháng 2/2024: chi ủy họp 0 lần; cần ít nhất 1 lần.",
        "February 2024: cell committee meetings: 0; at least 1 required.",
    ),
    ("thematic-meeting-quarterly", "c1", "2024-Q2"): (
        "Quý II/2024: chi bộ sinh hoạt chuyên đề 0 lần; cần ít nhất 1 lần.",
        "Q2 2024: thematic meetings: 0; at least 1 required.",
    ),
    ("hcm-study-quarterly", "c1", "2024-Q1"): (
        "Quý I/2024: 0 buổi sinh hoạt thường kỳ có nội dung học tập và làm theo tư tưởng, đạo "
        "đức, phong cách Hồ Chí Minh; cần ít nhất 1 buổi.",
        "Q1 2024: regular meetings that studied Ho Chi Minh's ideology: 0; at least 1 required.",
    ),
    ("topic-groups-yearly", "c1", "2024"): (
        "Năm 2024: sinh hoạt chuyên đề còn thiếu nhóm nội dung (4) tạo nguồn phát triển đảng viên.",
        "2024: the thematic meetings did not take up (4) sources of new Party members.",
    ),
    ("attendance-rate", "c1", "meeting/m-jan"): (
        "Buổi sinh hoạt thường kỳ ngày 10/01/2024: tỷ lệ đảng viên dự là 28,6%, cần trên 85%.",
        "The regular meeting of 10 Jan 2024: attendance was 28.6%; more than 85% is required.",
    ),
    ("no-unexcused-absence", "c1", "meeting/m-feb"): (
        "Buổi sinh hoạt thường kỳ ngày 10/02/2024: 1 đảng viên vắng không có lý do.",
        "The regular meeting of 10 Feb 2024: members absent without reason: 1.",
    ),
    ("criticism-each-meeting", "c1", "meeting/m-jan"): (
        "Buổi sinh hoạt thường kỳ ngày 10/01/2024 không tiến hành tự phê bình và phê bình.",
        "The regular meeting of 10 Jan 2024 held no self-criticism and criticism.",
    ),
    ("meeting-duration", "c2", "meeting/m-short"): (
        "Buổi sinh hoạt thường kỳ ngày 05/11/2025 chỉ kéo dài 80 phút.",
        "The regular meeting of 5 Nov 2025 lasted only 80 minutes.",
    ),
    ("regular-meeting-gap", "c1", "since/2024-04-11"): (
        "Chi bộ không sinh hoạt thường kỳ trong 122 ngày kể từ 11/04/2024, quá 45 ngày.",
        "No regular meeting for 122 days from 11 Apr 2024, more than 45 days.",
    ),
    ("member-unexcused-3-months", "c1", "member/dv-1/2024"): (
        "Năm 2024: đảng viên dv-1 vắng sinh hoạt không có lý do trong 3 tháng; chi bộ xem xét, "
        "đề nghị xóa tên.",
        "2024: member dv-1 was absent without reason in 3 months; the cell must consider removal.",
    ),
    ("member-excused-streak", "c1", "member/dv-2/2024"): (
        "Năm 2024: đảng viên dv-2 vắng có lý do 4 buổi sinh hoạt thường kỳ liên tiếp, quá 3 buổi.",
        "2024: member dv-2 was excused from 4 consecutive regular meetings, more than 3.",
    ),
}

PASSED = {
    ("regular-meeting-monthly", "c1", "2024-04"): (
        "Tháng 4/2024: đạt; 1 buổi được tính.",
        "April 2024: passed; meetings counted: 1.",
    ),
    ("thematic-meeting-quarterly", "c1", "2024-Q3"): (
        "Quý III/2024: đạt; 1 buổi được tính.",
        "Q3 2024: passed; meetings counted: 1.",
    ),
    ("attendance-rate", "c1", "meeting/m-apr"): (
        "Buổi sinh hoạt thường kỳ ngày 10/04/2024: đạt; tỷ lệ đảng viên dự 90%.",
        "The regular meeting of 10 Apr 2024: passed; attendance 90%.",
    ),
    ("criticism-each-meeting", "c1", "meeting/m-feb"): (
        "Buổi sinh hoạt thường kỳ ngày 10/02/2024: đạt; có tự phê bình và phê bình: có.",
        "The regular meeting of 10 Feb 2024: passed; self-criticism and criticism held: yes.",
    ),
    ("regular-meeting-gap", "c1", "since/2024-01-01"): (
        "01/01/2024\u2009\u2013\u200909/01/2024: đạt; 9 ngày không có buổi nào được tính.",
        "1 Jan 2024\u2009\u2013\u20099 Jan 2024: passed; 9 days without a counted meeting.",
    ),
    ("member-excused-streak", "c1", "member/dv-3/2024"): (
        "Năm 2024, đảng viên dv-3: đạt; vắng 1 buổi liên tiếp.",
        "2024, member dv-3: passed; meetings missed in a row: 1.",
    ),
}


@pytest.mark.parametrize("key", sorted(SAID))
def test_each_default_rule_says_what_was_wrong_in_both_languages(
    key: tuple[str, str, str],
) -> None:
    found = JUDGED[key]
    assert found.status == "open"
    assert (found.message.vi, found.message.en) == SAID[key]


def test_every_default_rule_is_heard_here() -> None:
    assert {rule for rule, _, _ in SAID} == {rule.id for rule in default_pack().rules}


@pytest.mark.parametrize("key", sorted(PASSED))
def test_a_pass_is_said_in_neutral_words(key: tuple[str, str, str]) -> None:
    found = JUDGED[key]
    assert found.status == "resolved"
    assert (found.message.vi, found.message.en) == PASSED[key]


ISO_DATE = re.compile(r"\d{4}-\d{2}(-\d{2})?|\d{4}-Q\d")
LONG_RATIO = re.compile(r"\d[.,]\d{2,}")
LITERALS = re.compile(r"\[|\]|\bTrue\b|\bFalse\b|\bNone\b|'")
ENGLISH = re.compile(
    r"\b(meeting|regular|thematic|committee|member|includes|required|passed|days|minutes)\b"
)


def test_no_vietnamese_text_holds_a_code_a_long_ratio_a_literal_or_english() -> None:
    for found in JUDGED.values():
        text = found.message.vi
        assert not ISO_DATE.search(text), text
        assert not LONG_RATIO.search(text), text
        assert not LITERALS.search(text), text
        assert not ENGLISH.search(text), text


def test_changing_a_param_changes_the_verdict_and_every_text_that_shows_it(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    rule = folder / "attendance-rate.yaml"
    rule.write_text(rule.read_text().replace("min_ratio: 0.85", "min_ratio: 0.9"))
    edited = read_rules(folder).by_id["attendance-rate"]
    events = [
        cell("c1"),
        # 87.5%: enough against 85%, not against 90%.
        meeting("m", "c1", "2024-01-10T19:00:00+07:00", members_total=8, members_present=7,
                absences=[{"member_id": "dv-1", "excused": True}]),
    ]  # fmt: skip
    before = evaluate([default_pack().by_id["attendance-rate"]], facts_of(events), date(2024, 2, 1))
    (after,) = evaluate([edited], facts_of(events), date(2024, 2, 1))
    assert list(before) == []
    assert (after.message.vi, after.message.en) == (
        "Buổi sinh hoạt thường kỳ ngày 10/01/2024: tỷ lệ đảng viên dự là 87,5%, cần trên 90%.",
        "The regular meeting of 10 Jan 2024: attendance was 87.5%; more than 90% is required.",
    )
    assert (edited.title.vi, edited.title.en) == (
        "Sinh hoạt thường kỳ có trên 90% đảng viên dự",
        "More than 90% of members attend each regular meeting",
    )
    assert edited.describe is not None
    assert "90%" in edited.describe.vi
    assert "90%" in edited.describe.en
    assert after.expected == edited.describe.en


def test_a_years_rows_say_which_periods_were_not_judged_and_why() -> None:
    events = [cell("late", established_on="2024-03-15"), *monthly("late", date(2024, 4, 1), 3)]
    facts = facts_of(events)
    (late,) = facts.cells()
    horizon = date(2024, 7, 15)
    rules = default_pack().rules
    found = evaluate(rules, facts, horizon, since=date(2024, 1, 1), passes=True)
    rows = year_rows(rules, late, found, 2024, horizon)
    monthly_rows = [
        (row.scope, row.verdict, row.text.vi)
        for row in rows
        if row.rule_id == "regular-meeting-monthly"
    ]
    not_active = "Chi bộ không hoạt động trọn kỳ (chưa thành lập, hoặc đã giải thể)."
    assert monthly_rows == [
        ("2024-01", "not_judged", not_active),
        ("2024-02", "not_judged", not_active),
        ("2024-03", "not_judged", not_active),  # established mid-month
        ("2024-04", "passed", "Tháng 4/2024: đạt; 1 buổi được tính."),
        ("2024-05", "passed", "Tháng 5/2024: đạt; 1 buổi được tính."),
        ("2024-06", "passed", "Tháng 6/2024: đạt; 1 buổi được tính."),
        *((f"2024-{m:02d}", "not_judged", "Kỳ chưa kết thúc.") for m in range(7, 13)),
    ]
    # Rules that do not apply give no rows: this cell has no committee.
    assert not any(row.rule_id == "committee-meeting-monthly" for row in rows)
