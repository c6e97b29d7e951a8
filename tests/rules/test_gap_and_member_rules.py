"""The default pack's gap and per-member rules on hand-checked data."""

from __future__ import annotations

from tests.builders import cell, judge, meeting, of, opened

GAP = "regular-meeting-gap"
UNEXCUSED = "member-unexcused-3-months"
STREAK = "member-excused-streak"


def _gappy() -> list[object]:
    return [
        cell("c1"),
        meeting("feb", "c1", "2024-02-16T08:00:00+07:00"),  # 46 days after establishment
        meeting("mar", "c1", "2024-03-31T08:00:00+07:00"),  # 44 days later
        meeting("may", "c1", "2024-05-16T08:00:00+07:00"),  # 46 days later
    ]


def test_gap_over_45_days_counts_from_establishment_and_is_scoped_by_its_first_day() -> None:
    assert opened(_gappy(), "2024-06-30", GAP) == {
        ("c1", "since/2024-01-01"),
        ("c1", "since/2024-04-01"),
    }


def test_last_gap_runs_to_the_horizon() -> None:
    assert opened(_gappy(), "2024-07-01", GAP) == of(
        "c1", "since/2024-01-01", "since/2024-04-01", "since/2024-05-17"
    )


def test_gap_finding_reports_the_days_and_the_meetings_around_it() -> None:
    found = {f.scope: f for f in judge(_gappy(), "2024-07-01") if f.rule_id == GAP}
    middle = found["since/2024-04-01"]
    assert (middle.observed, middle.meeting_ids, str(middle.period_end)) == (
        46,
        ["mar", "may"],
        "2024-05-15",
    )
    assert found["since/2024-01-01"].meeting_ids == ["feb"]


def test_last_gap_of_a_dissolved_cell_ends_at_dissolution() -> None:
    events = [
        cell("c1", dissolved_on="2024-02-15"),
        meeting("jan", "c1", "2024-01-02T08:00:00+07:00"),
    ]
    assert opened(events, "2024-12-01", GAP) == set()


def test_gap_of_exactly_45_days_is_allowed_even_when_the_offset_hides_a_46th() -> None:
    on_time = [cell("c1"), meeting("m", "c1", "2024-02-15T08:00:00+07:00")]
    late = [cell("c1"), meeting("m", "c1", "2024-02-15T20:00:00-05:00")]  # 02-16 in Vietnam
    assert opened(on_time, "2024-03-01", GAP) == set()
    assert opened(late, "2024-03-01", GAP) == {("c1", "since/2024-01-01")}


def test_meeting_on_the_establishment_day_starts_the_next_gap_the_day_after() -> None:
    events = [
        cell("c1", established_on="2024-03-01"),
        meeting("first", "c1", "2024-03-01T08:00:00+07:00"),
        meeting("next", "c1", "2024-04-20T08:00:00+07:00"),
    ]
    assert opened(events, "2024-05-01", GAP) == {("c1", "since/2024-03-02")}


def _unexcused_at(meeting_id: str, held_at: str, member: str = "a", **fields: object) -> object:
    absences = [{"member_id": member, "excused": False}]
    return meeting(meeting_id, "c1", held_at, absences=absences, **fields)


def test_member_absent_without_reason_in_three_distinct_months_is_flagged() -> None:
    events = [
        cell("c1", established_on="2023-01-01"),
        _unexcused_at("j1", "2024-01-05T08:00:00+07:00"),
        _unexcused_at("j2", "2024-01-25T08:00:00+07:00"),
        _unexcused_at("m", "2024-03-05T08:00:00+07:00"),
        _unexcused_at("b1", "2024-01-05T09:00:00+07:00", member="b"),
        _unexcused_at("b2", "2024-02-05T09:00:00+07:00", member="b"),
        _unexcused_at("b3", "2024-04-05T09:00:00+07:00", member="b"),
        _unexcused_at("t", "2024-06-05T09:00:00+07:00", kind="thematic"),
    ]
    assert opened(events, "2024-05-01", UNEXCUSED) == {("c1", "member/b/2024")}


def test_unexcused_months_do_not_carry_across_years_but_follow_vietnam_dates() -> None:
    events = [
        cell("c1", established_on="2023-01-01"),
        _unexcused_at("nov", "2023-11-05T08:00:00+07:00"),
        _unexcused_at("dec", "2023-12-05T08:00:00+07:00"),
        _unexcused_at("eve", "2023-12-31T20:00:00-05:00"),  # 2024-01-01 in Vietnam
        _unexcused_at("feb", "2024-02-05T08:00:00+07:00"),
    ]
    assert opened(events, "2025-01-01", UNEXCUSED) == set()
    events.append(_unexcused_at("mar", "2024-03-05T08:00:00+07:00"))
    assert opened(events, "2025-01-01", UNEXCUSED) == {("c1", "member/a/2024")}


def _excused(meeting_id: str, held_at: str, *members: str) -> object:
    absences = [{"member_id": m, "excused": True} for m in members]
    return meeting(meeting_id, "c1", held_at, absences=absences)


def test_member_excused_from_more_than_three_consecutive_regular_meetings_is_flagged() -> None:
    events = [
        cell("c1"),
        _excused("r1", "2024-01-31T08:00:00+07:00", "a", "b"),
        _excused("r2", "2024-02-01T08:00:00+07:00", "a", "b"),
        meeting("t", "c1", "2024-02-15T08:00:00+07:00", kind="thematic"),  # not a regular one
        _excused("r3", "2024-03-10T08:00:00+07:00", "a", "b"),
        _excused("r4", "2024-04-10T08:00:00+07:00", "a"),
        meeting(
            "r5", "c1", "2024-05-10T08:00:00+07:00", absences=[{"member_id": "b", "excused": False}]
        ),
        _excused("r6", "2024-06-10T08:00:00+07:00", "b"),
    ]
    found = [f for f in judge(events, "2024-07-01") if f.rule_id == STREAK]
    assert [(f.scope, f.observed, f.meeting_ids) for f in found] == [
        ("member/a/2024", 4, ["r1", "r2", "r3", "r4"])
    ]


def test_excused_streak_restarts_with_the_year() -> None:
    events = [
        cell("c1", established_on="2023-01-01"),
        _excused("n", "2023-11-10T08:00:00+07:00", "a"),
        _excused("d", "2023-12-10T08:00:00+07:00", "a"),
        _excused("j", "2024-01-10T08:00:00+07:00", "a"),
        _excused("f", "2024-02-10T08:00:00+07:00", "a"),
        _excused("m", "2024-03-10T08:00:00+07:00", "a"),
    ]
    assert opened(events, "2025-01-01", STREAK) == set()
    events.append(_excused("a", "2024-04-10T08:00:00+07:00", "a"))
    assert opened(events, "2025-01-01", STREAK) == {("c1", "member/a/2024")}
