"""The default pack's calendar-period rules on hand-checked data (docs/default-rules.md)."""

from __future__ import annotations

from datetime import date

from tests.builders import cell, meeting, monthly, of, opened

REGULAR = "regular-meeting-monthly"


def test_month_without_regular_meeting_is_a_violation() -> None:
    events = [cell("c1"), *monthly("c1", date(2024, 1, 1), 2), *monthly("c1", date(2024, 4, 1), 1)]
    assert opened(events, "2024-05-01", REGULAR) == {("c1", "2024-03")}


def test_cell_without_any_meeting_is_judged_every_ended_month() -> None:
    assert opened([cell("c1")], "2024-04-01", REGULAR) == of("c1", "2024-01", "2024-02", "2024-03")


def test_month_still_running_at_the_horizon_is_not_judged() -> None:
    assert opened([cell("c1")], "2024-03-15", REGULAR) == {("c1", "2024-01"), ("c1", "2024-02")}


def test_evening_meeting_west_of_greenwich_counts_in_the_next_vietnam_month() -> None:
    # 2024-03-31T20:00-05:00 is 2024-04-01T08:00 in Vietnam: April has a meeting, March none.
    events = [
        cell("c1"),
        *monthly("c1", date(2024, 1, 1), 2),
        meeting("late", "c1", "2024-03-31T20:00:00-05:00"),
    ]
    assert opened(events, "2024-05-01", REGULAR) == {("c1", "2024-03")}


def test_utc_evening_on_the_last_day_counts_in_the_next_vietnam_month() -> None:
    # 2024-04-30T18:00Z is 2024-05-01T01:00 in Vietnam.
    events = [
        cell("c1"),
        *monthly("c1", date(2024, 1, 1), 3),
        meeting("x", "c1", "2024-04-30T18:00:00Z"),
    ]
    assert opened(events, "2024-06-01", REGULAR) == {("c1", "2024-04")}


def test_month_of_establishment_mid_month_is_not_judged() -> None:
    events = [cell("c1", established_on="2024-01-15")]
    assert opened(events, "2024-03-01", REGULAR) == {("c1", "2024-02")}


def test_dissolved_cell_is_judged_only_for_months_it_lived_through() -> None:
    events = [cell("c1", dissolved_on="2024-03-20")]
    assert opened(events, "2024-06-01", REGULAR) == {("c1", "2024-01"), ("c1", "2024-02")}


def test_cell_dissolved_on_the_first_of_a_month_is_judged_for_the_month_before() -> None:
    events = [cell("c1", dissolved_on="2024-04-01")]
    assert opened(events, "2024-06-01", REGULAR) == of("c1", "2024-01", "2024-02", "2024-03")


def test_meeting_on_the_dissolution_day_in_vietnam_does_not_count() -> None:
    events = [
        cell("c1", dissolved_on="2024-03-01"),
        *monthly("c1", date(2024, 1, 1), 1),
        meeting("feb-late", "c1", "2024-02-29T18:00:00Z"),  # 2024-03-01T01:00 in Vietnam
    ]
    assert opened(events, "2024-06-01", REGULAR) == {("c1", "2024-02")}


def test_meeting_before_establishment_does_not_count() -> None:
    events = [
        cell("c1", established_on="2024-02-01"),
        meeting("early", "c1", "2024-01-31T16:30:00Z"),  # 2024-01-31T23:30 in Vietnam
    ]
    assert opened(events, "2024-03-01", REGULAR) == {("c1", "2024-02")}


def test_committee_meetings_are_required_only_of_cells_with_a_committee() -> None:
    events = [
        cell("big", has_committee=True),
        cell("small"),
        meeting("k1", "big", "2024-01-05T08:00:00+07:00", kind="committee"),
        meeting("k2", "small", "2024-01-05T08:00:00+07:00", kind="committee"),
    ]
    assert opened(events, "2024-03-01", "committee-meeting-monthly") == {("big", "2024-02")}


def test_regular_meeting_does_not_stand_for_a_committee_meeting() -> None:
    events = [cell("big", has_committee=True), *monthly("big", date(2024, 1, 1), 1)]
    assert opened(events, "2024-02-01", "committee-meeting-monthly") == {("big", "2024-01")}


def test_quarter_needs_a_thematic_meeting_or_a_regular_one_with_a_thematic_session() -> None:
    events = [
        cell("c1"),
        meeting("t1", "c1", "2024-02-10T08:00:00+07:00", kind="thematic"),
        meeting("r2", "c1", "2024-05-10T08:00:00+07:00", includes_thematic=True),
        meeting("r3", "c1", "2024-08-10T08:00:00+07:00"),
        meeting("k4", "c1", "2024-11-10T08:00:00+07:00", kind="committee", includes_thematic=True),
    ]
    assert opened(events, "2025-01-01", "thematic-meeting-quarterly") == {
        ("c1", "2024-Q3"),
        ("c1", "2024-Q4"),
    }


def test_quarter_of_a_cell_established_after_its_first_day_is_not_judged() -> None:
    events = [cell("c1", established_on="2024-02-01")]
    assert opened(events, "2024-07-01", "thematic-meeting-quarterly") == {("c1", "2024-Q2")}


def test_thematic_meeting_on_new_years_eve_west_of_greenwich_counts_in_the_next_quarter() -> None:
    events = [
        cell("c1", established_on="2023-10-01"),
        meeting("t", "c1", "2023-12-31T21:00:00-03:00", kind="thematic"),  # 2024-01-01 07:00
    ]
    assert opened(events, "2024-04-01", "thematic-meeting-quarterly") == {("c1", "2023-Q4")}


def test_hcm_study_counts_only_at_regular_meetings() -> None:
    events = [
        cell("c1"),
        *monthly("c1", date(2024, 1, 1), 3, hcm_study=False),
        meeting("t", "c1", "2024-02-20T08:00:00+07:00", kind="thematic", hcm_study=True),
        meeting("r", "c1", "2024-05-20T08:00:00+07:00", hcm_study=True),
    ]
    assert opened(events, "2024-07-01", "hcm-study-quarterly") == {("c1", "2024-Q1")}


def _themed(cell_id: str, groups: list[int], **fields: object) -> object:
    return meeting(
        f"{cell_id}-t", cell_id, "2024-06-10T08:00:00+07:00", topic_groups=groups, **fields
    )


def test_each_cell_type_needs_its_own_topic_groups_over_the_year() -> None:
    thematic = {"kind": "thematic"}
    events = [
        cell("agency-ok", cell_type="agency"),
        _themed("agency-ok", [1, 2, 5], **thematic),
        cell("agency-short", cell_type="agency"),
        _themed("agency-short", [1, 2], **thematic),
        cell("service-ok", cell_type="public_service"),
        _themed("service-ok", [5, 2, 1], **thematic),
        cell("rural-ok", cell_type="rural"),
        _themed("rural-ok", [3, 4, 5], includes_thematic=True),
        cell("urban-untagged", cell_type="urban"),
        _themed("urban-untagged", [3, 4, 5]),  # a plain regular meeting is not thematic
        cell("enterprise-ok", cell_type="enterprise"),
        _themed("enterprise-ok", [4, 5], **thematic),
        cell("military-short", cell_type="military"),
        _themed("military-short", [4, 1], **thematic),
        cell("police-none", cell_type="police"),
    ]
    assert opened(events, "2025-01-01", "topic-groups-yearly") == {
        ("agency-short", "2024"),
        ("urban-untagged", "2024"),
        ("military-short", "2024"),
        ("police-none", "2024"),
    }


def test_topic_groups_accumulate_over_several_thematic_meetings() -> None:
    events = [
        cell("c1", cell_type="agency"),
        meeting("a", "c1", "2024-02-10T08:00:00+07:00", kind="thematic", topic_groups=[1]),
        meeting(
            "b", "c1", "2024-09-10T08:00:00+07:00", includes_thematic=True, topic_groups=[2, 5]
        ),
    ]
    assert opened(events, "2025-01-01", "topic-groups-yearly") == set()


def test_year_not_ended_or_not_fully_lived_is_not_judged_for_topic_groups() -> None:
    events = [cell("c1", established_on="2024-01-02"), cell("c2")]
    assert opened(events, "2024-12-31", "topic-groups-yearly") == set()
    assert opened(events, "2025-01-01", "topic-groups-yearly") == {("c2", "2024")}
