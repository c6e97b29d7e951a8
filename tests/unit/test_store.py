"""In-memory facts follow the event contract's semantics whatever the arrival order."""

from __future__ import annotations

from datetime import date

from services.contracts.events import Event
from tests.builders import cell, facts_of, meeting, org, retraction

EARLY, LATE = "2024-05-01T00:00:00Z", "2024-06-01T00:00:00Z"


def _meetings(events: list[Event], cell_id: str = "c1") -> list[tuple[str, str]]:
    found = facts_of(events).cell(cell_id)
    assert found is not None
    return [(m.meeting_id, m.kind) for m in found.meetings]


def test_same_event_id_is_applied_once() -> None:
    facts = facts_of([])
    event = meeting("m", "c1", "2024-01-10T08:00:00+07:00", event_id="x")
    assert (facts.apply(event), facts.apply(event)) == (True, False)


def test_latest_envelope_time_wins_in_either_arrival_order() -> None:
    old = meeting("m", "c1", "2024-01-10T08:00:00+07:00", time=EARLY)
    new = meeting("m", "c1", "2024-01-10T08:00:00+07:00", kind="thematic", time=LATE)
    assert _meetings([cell("c1"), old, new]) == [("m", "thematic")]
    assert _meetings([cell("c1"), new, old]) == [("m", "thematic")]


def test_retraction_is_a_record_like_any_other() -> None:
    held = meeting("m", "c1", "2024-01-10T08:00:00+07:00", time=EARLY)
    gone = retraction("m", "c1", time=LATE)
    assert _meetings([cell("c1"), gone, held]) == []
    assert _meetings([cell("c1"), retraction("m", "c1", time="2024-01-01T00:00:00Z"), held]) == [
        ("m", "regular")
    ]


def test_meetings_are_ordered_by_held_at_across_offsets() -> None:
    events = [
        cell("c1"),
        meeting("b", "c1", "2024-01-10T08:00:00+07:00"),
        meeting("a", "c1", "2024-01-09T21:00:00-05:00"),  # 2024-01-10T09:00+07:00
        meeting("c", "c1", "2024-01-10T00:30:00Z"),  # 2024-01-10T07:30+07:00
    ]
    assert [m for m, _ in _meetings(events)] == ["c", "b", "a"]


def test_meetings_of_unregistered_cells_are_pending_until_the_cell_registers() -> None:
    facts = facts_of([meeting("m", "later", "2024-01-10T08:00:00+07:00")])
    assert list(facts.pending()) == ["later"]
    assert list(facts.cells()) == []
    facts.apply(cell("later"))
    assert facts.pending() == {}
    assert [c.cell.cell_id for c in facts.cells()] == ["later"]


def test_latest_registration_replaces_the_cells_attributes() -> None:
    facts = facts_of(
        [
            cell("c1", established_on="2023-01-01", time=LATE),
            cell("c1", established_on="2024-01-01", time=EARLY),
        ]
    )
    found = facts.cell("c1")
    assert found is not None
    assert found.cell.established_on == date(2023, 1, 1)


def test_meeting_fact_keeps_the_vietnam_date_and_splits_absences() -> None:
    absences = [{"member_id": "a", "excused": True}, {"member_id": "b", "excused": False}]
    facts = facts_of(
        [cell("c1"), meeting("m", "c1", "2024-03-31T20:00:00-05:00", absences=absences)]
    )
    found = facts.cell("c1")
    assert found is not None
    (fact,) = found.meetings
    assert (fact.day, fact.excused, fact.unexcused) == (date(2024, 4, 1), ("a",), ("b",))


def test_latest_org_registration_wins() -> None:
    facts = facts_of(
        [org("o1", "Đảng ủy xã mới", time=LATE), org("o1", "Đảng ủy xã cũ", time=EARLY)]
    )
    assert facts.orgs()["o1"].name == "Đảng ủy xã mới"
