"""What an ingest tells the sender beside storing: events kept but naming a cell or org not
registered, an id received before with other content, a record older than the one in force.
Pure: the words of each notice, Vietnamese first."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

import msgspec

from services.contracts.events import (
    CellRegisteredEvent,
    Event,
    MeetingHeldEvent,
    MeetingRetractedEvent,
    OrgRegisteredEvent,
)
from services.contracts.findings import Text


class Notice(enum.StrEnum):
    """Why an event is worth a warning although it was received."""

    unknown_cell = "unknown_cell"
    unknown_org = "unknown_org"
    unknown_parent = "unknown_parent"
    conflicting_duplicate = "conflicting_duplicate"
    not_in_force = "not_in_force"


class EventWarning(msgspec.Struct, frozen=True, kw_only=True):
    """A warning about one event of a request: its position, its id, why, in words."""

    index: int
    id: str
    code: Notice
    field: str
    message: Text


def orphans(
    events: Sequence[tuple[int, Event]], orgs: set[str], cells: set[str]
) -> list[EventWarning]:
    """Warnings for the events that name a cell or an org not registered (kept all the same,
    judged once it registers); `orgs` and `cells` are those registered."""
    found = []
    for index, event in events:
        match event:
            case MeetingHeldEvent(data=d) | MeetingRetractedEvent(data=d) if d.cell_id not in cells:
                text = Text(
                    vi=f"Chi bộ `{d.cell_id}` chưa được đăng ký: buổi sinh hoạt được lưu và sẽ"
                    " được đánh giá khi chi bộ đăng ký.",
                    en=f"cell `{d.cell_id}` is not registered: the meeting is kept and judged"
                    " once the cell registers",
                )
                found.append(_warning(index, event, Notice.unknown_cell, "$.data.cell_id", text))
            case CellRegisteredEvent(data=d) if d.org_id not in orgs:
                text = Text(
                    vi=f"Tổ chức `{d.org_id}` chưa được đăng ký: chi bộ được lưu nhưng chưa thuộc"
                    " phạm vi của cán bộ nào.",
                    en=f"org `{d.org_id}` is not registered: the cell is kept but is in no"
                    " inspector's reach yet",
                )
                found.append(_warning(index, event, Notice.unknown_org, "$.data.org_id", text))
            case OrgRegisteredEvent(data=d) if d.parent_id is not None and d.parent_id not in orgs:
                text = Text(
                    vi=f"Tổ chức cấp trên `{d.parent_id}` chưa được đăng ký.",
                    en=f"the parent org `{d.parent_id}` is not registered",
                )
                found.append(
                    _warning(index, event, Notice.unknown_parent, "$.data.parent_id", text)
                )
    return found


def conflicting(index: int, event: Event) -> EventWarning:
    """A warning for an id received before with other content: the first is kept."""
    text = Text(
        vi=f"Mã sự kiện `{event.id}` đã nhận trước đó với nội dung khác: giữ bản nhận trước,"
        " bỏ qua bản này.",
        en=f"event id `{event.id}` was received before with other content: the first is kept,"
        " this one ignored",
    )
    return _warning(index, event, Notice.conflicting_duplicate, "$.id", text)


def not_in_force(
    events: Sequence[tuple[int, Event]],
    keys: Mapping[int, tuple[str, str]],
    winners: Mapping[tuple[str, str], str],
) -> list[EventWarning]:
    """Warnings for the stored events whose record did not win: an older correction (by
    envelope time, then id) is kept as history, the record in force stays."""
    found = []
    for index, event in events:
        winner = winners.get(keys[index])
        if winner is not None and winner != event.id:
            text = Text(
                vi=f"Bản ghi cũ hơn bản đang áp dụng (`{winner}`): được lưu vào lịch sử, không"
                " thay thế bản đó.",
                en=f"older than the record in force (`{winner}`): kept as history, it did not"
                " replace it",
            )
            found.append(_warning(index, event, Notice.not_in_force, "$.time", text))
    return found


def _warning(index: int, event: Event, code: Notice, field: str, message: Text) -> EventWarning:
    return EventWarning(index=index, id=event.id, code=code, field=field, message=message)
