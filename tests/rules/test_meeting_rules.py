"""The default pack's per-meeting rules on hand-checked data."""

from __future__ import annotations

from tests.builders import cell, judge, meeting, opened

DURATION = "meeting-duration"


def _absent(*members: str, excused: bool = False) -> list[dict[str, object]]:
    return [{"member_id": m, "excused": excused} for m in members]


def test_duration_is_judged_only_from_the_vietnam_date_2025_10_28() -> None:
    events = [
        cell("c1"),
        meeting("before", "c1", "2025-10-27T23:00:00+07:00", duration_minutes=60),
        meeting("west", "c1", "2025-10-27T20:00:00-05:00", duration_minutes=80),  # 10-28 in VN
        meeting("utc", "c1", "2025-10-27T17:30:00Z", duration_minutes=89),  # 10-28 00:30 in VN
        meeting("enough", "c1", "2025-11-05T08:00:00+07:00", duration_minutes=90),
    ]
    assert opened(events, "2026-01-01", DURATION) == {("c1", "meeting/west"), ("c1", "meeting/utc")}


def test_regular_meeting_with_a_thematic_session_needs_120_minutes() -> None:
    events = [
        cell("c1"),
        meeting(
            "joint-short",
            "c1",
            "2025-11-03T08:00:00+07:00",
            includes_thematic=True,
            duration_minutes=119,
        ),
        meeting(
            "joint-ok",
            "c1",
            "2025-11-04T08:00:00+07:00",
            includes_thematic=True,
            duration_minutes=120,
        ),
        meeting(
            "thematic-ok", "c1", "2025-11-05T08:00:00+07:00", kind="thematic", duration_minutes=90
        ),
        meeting(
            "thematic-flagged",
            "c1",
            "2025-11-06T08:00:00+07:00",
            kind="thematic",
            includes_thematic=True,
            duration_minutes=100,
        ),
        meeting(
            "committee-short",
            "c1",
            "2025-11-07T08:00:00+07:00",
            kind="committee",
            duration_minutes=30,
        ),
    ]
    assert opened(events, "2026-01-01", DURATION) == {("c1", "meeting/joint-short")}


def test_duration_finding_reports_minutes_observed_and_the_threshold_expected() -> None:
    events = [cell("c1"), meeting("m", "c1", "2025-11-03T08:00:00+07:00", duration_minutes=45)]
    (found,) = [f for f in judge(events, "2025-12-01") if f.rule_id == DURATION]
    assert (found.observed, found.period_start.isoformat(), found.meeting_ids) == (
        45,
        "2025-11-03",
        ["m"],
    )
    assert "45" in found.message.vi
    assert "45" in found.message.en


def test_attendance_at_or_below_85_percent_of_members_not_exempted_is_a_violation() -> None:
    events = [
        cell("c1"),
        meeting("ninety", "c1", "2024-01-10T08:00:00+07:00", members_present=9),
        meeting("eighty", "c1", "2024-02-10T08:00:00+07:00", members_present=8),
        meeting(
            "boundary", "c1", "2024-03-10T08:00:00+07:00", members_total=20, members_present=17
        ),  # exactly 0.85
        meeting(
            "exempted", "c1", "2024-04-10T08:00:00+07:00", members_exempt=3, members_present=6
        ),  # 6 of 7 = 0.857
        meeting("thematic", "c1", "2024-05-10T08:00:00+07:00", kind="thematic", members_present=2),
    ]
    assert opened(events, "2024-06-01", "attendance-rate") == {
        ("c1", "meeting/eighty"),
        ("c1", "meeting/boundary"),
    }


def test_any_unexcused_absence_at_a_regular_meeting_is_a_violation() -> None:
    events = [
        cell("c1"),
        meeting("unexcused", "c1", "2024-01-10T08:00:00+07:00", absences=_absent("a")),
        meeting("excused", "c1", "2024-02-10T08:00:00+07:00", absences=_absent("a", excused=True)),
        meeting(
            "thematic", "c1", "2024-03-10T08:00:00+07:00", kind="thematic", absences=_absent("a")
        ),
    ]
    assert opened(events, "2024-06-01", "no-unexcused-absence") == {("c1", "meeting/unexcused")}


def test_regular_meeting_without_self_criticism_is_a_violation() -> None:
    events = [
        cell("c1"),
        meeting("silent", "c1", "2024-01-10T08:00:00+07:00", criticism_held=False),
        meeting(
            "thematic", "c1", "2024-02-10T08:00:00+07:00", kind="thematic", criticism_held=False
        ),
        meeting("ok", "c1", "2024-03-10T08:00:00+07:00"),
    ]
    assert opened(events, "2024-06-01", "criticism-each-meeting") == {("c1", "meeting/silent")}


def test_meeting_held_on_or_after_the_horizon_is_not_judged_yet() -> None:
    events = [cell("c1"), meeting("m", "c1", "2024-05-31T17:30:00Z", criticism_held=False)]
    assert opened(events, "2024-06-01", "criticism-each-meeting") == set()  # 06-01 in Vietnam
    assert opened(events, "2024-06-02", "criticism-each-meeting") == {("c1", "meeting/m")}


def test_meetings_outside_the_cells_life_are_not_judged() -> None:
    events = [
        cell("c1", established_on="2024-02-01", dissolved_on="2024-04-01"),
        meeting("before", "c1", "2024-01-20T08:00:00+07:00", criticism_held=False),
        meeting("during", "c1", "2024-03-20T08:00:00+07:00", criticism_held=False),
        meeting("after", "c1", "2024-04-01T08:00:00+07:00", criticism_held=False),
    ]
    assert opened(events, "2024-06-01", "criticism-each-meeting") == {("c1", "meeting/during")}
