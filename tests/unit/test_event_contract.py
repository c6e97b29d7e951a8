"""The event contract v1: what is accepted, and how refusals name the field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.contracts.codec import InvalidEventError, decode_event, split_batch
from services.contracts.events import CellRegisteredEvent, MeetingHeldEvent, MeetingKind
from tests.factories import cell_registered, dumps, meeting_held, meeting_retracted, org_registered


def refusal(event: dict[str, object]) -> InvalidEventError:
    with pytest.raises(InvalidEventError) as caught:
        decode_event(dumps(event))
    return caught.value


def test_a_valid_meeting_is_decoded_with_its_offset_kept() -> None:
    event = decode_event(dumps(meeting_held(held_at="2024-03-31T20:00:00-05:00")))
    assert isinstance(event, MeetingHeldEvent)
    assert event.data.kind is MeetingKind.regular
    assert event.data.held_at.utcoffset() == timedelta(hours=-5)


def test_every_event_type_decodes_to_its_struct() -> None:
    kinds = [
        type(decode_event(dumps(e))).__name__
        for e in (org_registered(), cell_registered(), meeting_held(), meeting_retracted())
    ]
    assert kinds == [
        "OrgRegisteredEvent",
        "CellRegisteredEvent",
        "MeetingHeldEvent",
        "MeetingRetractedEvent",
    ]


def test_a_dissolved_cell_keeps_its_dissolution_date() -> None:
    event = decode_event(dumps(cell_registered(dissolved_on="2024-06-01")))
    assert isinstance(event, CellRegisteredEvent)
    assert str(event.data.dissolved_on) == "2024-06-01"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"duration_minutes": 0}, "$.data.duration_minutes"),
        ({"duration_minutes": 1441}, "$.data.duration_minutes"),
        ({"topic_groups": [6]}, "$.data.topic_groups[0]"),
        ({"topic_groups": [2, 2]}, "$.data.topic_groups"),
        ({"kind": "party"}, "$.data.kind"),
        ({"members_exempt": 12}, "$.data.members_exempt"),
        ({"members_present": 11}, "$.data.members_present"),
        ({"held_at": "2024-03-05T19:30:00"}, "$.data.held_at"),
        ({"held_at": "yesterday"}, "$.data.held_at"),
        ({"meeting_id": "has space"}, "$.data.meeting_id"),
        ({"meeting_id": "x" * 65}, "$.data.meeting_id"),
        ({"criticism_held": "yes"}, "$.data.criticism_held"),
        (
            {"members_present": 9, "absences": [{"member_id": "a", "excused": True}] * 2},
            "$.data.absences",
        ),
        ({"absences": [{"member_id": "a"}]}, "$.data.absences[0]"),
        ({"quorum": True}, "$.data"),
    ],
)
def test_an_invalid_meeting_is_refused_naming_the_field(
    change: dict[str, object], field: str
) -> None:
    assert refusal(meeting_held(**change)).field == field  # type: ignore[arg-type]


def test_a_missing_field_is_named_in_the_message() -> None:
    event = meeting_held()
    del event["data"]["hcm_study"]
    error = refusal(event)
    assert error.field == "$.data"
    assert "hcm_study" in error.message


def test_an_unknown_event_type_lists_the_known_ones() -> None:
    event = meeting_held()
    event["type"] = "meeting.planned"
    error = refusal(event)
    assert error.field == "$.type"
    assert "meeting.held" in error.message


def test_the_subject_must_be_the_cell_the_event_is_about() -> None:
    event = meeting_held(cell_id="cell-1")
    event["subject"] = "cell-2"
    assert refusal(event).field == "$.subject"


def test_an_event_time_without_offset_is_refused() -> None:
    assert refusal(meeting_held(time="2024-03-05T19:30:00")).field == "$.time"


def test_a_cell_cannot_be_dissolved_before_it_is_established() -> None:
    error = refusal(cell_registered(established_on="2024-01-01", dissolved_on="2023-12-31"))
    assert error.field == "$.data.dissolved_on"


def test_an_unknown_cell_type_is_refused() -> None:
    assert refusal(cell_registered(cell_type="village")).field == "$.data.cell_type"


def test_only_cloudevents_1_0_is_accepted() -> None:
    event = org_registered()
    event["specversion"] = "0.3"
    assert refusal(event).field == "$.specversion"


def test_a_body_that_is_not_json_is_refused() -> None:
    with pytest.raises(InvalidEventError, match="not valid JSON"):
        decode_event(b"{not json")


def test_a_batch_splits_into_raw_events_and_a_single_event_is_a_batch_of_one() -> None:
    one, two = dumps(org_registered()), dumps(cell_registered())
    assert len(split_batch(b"[" + one + b"," + two + b"]")) == 2
    assert split_batch(one) == [one]


def test_a_truncated_batch_is_refused() -> None:
    with pytest.raises(InvalidEventError, match="not valid JSON"):
        split_batch(b"[" + dumps(org_registered()))


def test_a_name_with_control_characters_is_refused_naming_the_field() -> None:
    assert refusal(cell_registered(name="Chi bộ\u0000")).field == "$.data.name"
    org = org_registered()
    org["data"]["name"] = "Đảng bộ\nxã"
    error = refusal(org)
    assert error.field == "$.data.name"
    assert "control characters" in error.message
