"""Corrections, retractions, duplicates and late registrations, judged by the default pack."""

from __future__ import annotations

from datetime import date

from tests.builders import cell, meeting, monthly, of, opened, retraction

REGULAR = "regular-meeting-monthly"
LATER = "2024-06-01T00:00:00Z"
EARLIER = "2024-05-01T00:00:00Z"


def _quarter(cell_id: str = "c1") -> list[object]:
    return [cell(cell_id), *monthly(cell_id, date(2024, 1, 1), 3)]


def test_correction_arriving_before_the_record_it_corrects_still_wins() -> None:
    correction = meeting(
        "c1-m202403", "c1", "2024-03-10T08:00:00+07:00", kind="committee", time=LATER
    )
    assert opened([correction, *_quarter()], "2024-04-01", REGULAR) == {("c1", "2024-03")}


def test_stale_correction_arriving_last_does_not_win() -> None:
    newer = meeting("c1-m202403", "c1", "2024-03-10T08:00:00+07:00", time=LATER)
    stale = meeting("c1-m202403", "c1", "2024-03-10T08:00:00+07:00", kind="committee", time=EARLIER)
    assert opened([*_quarter(), newer, stale], "2024-04-01", REGULAR) == set()


def test_correction_moving_a_meeting_to_another_month_empties_the_first() -> None:
    moved = meeting("c1-m202402", "c1", "2024-03-20T08:00:00+07:00", time=LATER)
    assert opened([*_quarter(), moved], "2024-04-01", REGULAR) == {("c1", "2024-02")}


def test_retraction_removes_the_meeting() -> None:
    gone = retraction("c1-m202402", "c1", time=LATER)
    assert opened([*_quarter(), gone], "2024-04-01", REGULAR) == {("c1", "2024-02")}


def test_retraction_older_than_the_record_does_not_remove_it() -> None:
    held_again = meeting("c1-m202402", "c1", "2024-02-10T08:00:00+07:00", time=LATER)
    gone = retraction("c1-m202402", "c1", time=EARLIER)
    assert opened([*_quarter(), held_again, gone], "2024-04-01", REGULAR) == set()


def test_record_later_than_a_retraction_brings_the_meeting_back() -> None:
    gone = retraction("c1-m202402", "c1", time=EARLIER)
    back = meeting("c1-m202402", "c1", "2024-02-12T08:00:00+07:00", time=LATER)
    assert opened([*_quarter(), back, gone], "2024-04-01", REGULAR) == set()


def test_same_event_id_twice_is_one_event_even_if_the_copy_differs() -> None:
    first = meeting("x", "c1", "2024-04-10T08:00:00+07:00", event_id="dup-1", time=EARLIER)
    copy = meeting("x", "c1", "2024-05-10T08:00:00+07:00", event_id="dup-1", time=LATER)
    assert opened([*_quarter(), first, copy], "2024-06-01", REGULAR) == {("c1", "2024-05")}


def test_records_with_the_same_time_are_decided_by_the_larger_event_id() -> None:
    small = meeting("x", "c1", "2024-04-10T08:00:00+07:00", event_id="evt-a", time=LATER)
    large = meeting("x", "c1", "2024-05-10T08:00:00+07:00", event_id="evt-b", time=LATER)
    for order in ([small, large], [large, small]):
        assert opened([*_quarter(), *order], "2024-06-01", REGULAR) == {("c1", "2024-04")}


def test_meetings_arriving_before_their_cell_are_judged_once_it_registers() -> None:
    events = [*monthly("late", date(2024, 1, 1), 2), cell("late")]
    assert opened(events, "2024-04-01", REGULAR) == {("late", "2024-03")}


def test_meetings_of_a_never_registered_cell_are_not_judged() -> None:
    assert opened(monthly("ghost", date(2024, 1, 1), 1), "2024-04-01", REGULAR) == set()


def test_re_registration_replaces_the_cells_attributes_by_envelope_time() -> None:
    first = cell("c1", established_on="2024-03-01", time=EARLIER)
    second = cell("c1", established_on="2024-01-01", time=LATER)
    for order in ([first, second], [second, first]):
        assert opened(order, "2024-04-01", REGULAR) == of("c1", "2024-01", "2024-02", "2024-03")


def test_committee_flag_follows_the_latest_registration() -> None:
    events = [
        cell("c1", has_committee=True, time=EARLIER),
        cell("c1", has_committee=False, time=LATER),
    ]
    assert opened(events, "2024-02-01", "committee-meeting-monthly") == set()
