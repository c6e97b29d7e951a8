"""What a scoped source may write: only for its own part of the organisation tree.

A source token that names an org writes for that org's subtree: meetings of cells registered
below it, cells registered below it, orgs registered below it (never the org itself, which
would let it move its own place in the tree). A source token that names a cell writes only
that cell's meetings. Whatever a batch registers counts for the events after it in the batch,
so one request may register an org, its cells and their meetings in that order. Moving
something in (a cell, an org or a meeting registered elsewhere now) is refused too: its old
place is not the caller's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from services.contracts.events import (
    CellRegisteredEvent,
    Event,
    MeetingHeldEvent,
    MeetingRetractedEvent,
    OrgRegisteredEvent,
)


@dataclasses.dataclass(frozen=True)
class WriteScope:
    """The part of the tree a source writes for: below `org`, or the one `cell`."""

    org: str | None
    cell: str | None


@dataclasses.dataclass
class Places:
    """Where things are now, as far as a batch's events need to know.

    `subtree` is the scope's org and every org below it; `orgs` the orgs of the batch's org
    registrations that exist; `cells` and `meetings` the registered org of each cell and the
    cell of each meeting the batch names, where there is one.
    """

    subtree: set[str]
    orgs: set[str]
    cells: dict[str, str]
    meetings: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Refusal:
    """Why one event lies outside the caller's scope: its position and the field at fault."""

    index: int
    field: str
    message: str


def outside(events: Sequence[Event], scope: WriteScope, places: Places) -> list[Refusal]:
    """The events `scope` may not write, judged in order: what an accepted event registers
    counts for the events after it. `places` is updated as events are accepted."""
    refusals: list[Refusal] = []
    for index, event in enumerate(events):
        found = _refusal(event, scope, places)
        if found is not None:
            refusals.append(Refusal(index, *found))
        else:
            _accept(event, places)
    return refusals


def _refusal(event: Event, scope: WriteScope, places: Places) -> tuple[str, str] | None:
    where = f"org {scope.org}" if scope.org is not None else f"cell {scope.cell}"
    match event:
        case OrgRegisteredEvent(data=d):
            if scope.org is None:
                return "type", f"a token for {where} registers no orgs"
            if d.parent_id is None or d.parent_id not in places.subtree:
                return "data.parent_id", f"this token registers orgs only below {where}"
            if d.org_id == scope.org or (d.org_id in places.orgs - places.subtree):
                return "data.org_id", f"org {d.org_id} is not below {where}"
        case CellRegisteredEvent(data=d):
            if scope.org is None:
                return "type", f"a token for {where} registers no cells"
            if d.org_id not in places.subtree:
                return "data.org_id", f"this token registers cells only below {where}"
            if d.cell_id in places.cells and not _reaches(scope, places, d.cell_id):
                return "data.cell_id", f"cell {d.cell_id} is registered outside {where}"
        case MeetingHeldEvent(data=d) | MeetingRetractedEvent(data=d):
            if not _reaches(scope, places, d.cell_id):
                return "data.cell_id", f"cell {d.cell_id} is not registered below {where}"
            held_in = places.meetings.get(d.meeting_id)
            if held_in is not None and not _reaches(scope, places, held_in):
                return "data.meeting_id", f"meeting {d.meeting_id} is of a cell outside {where}"
    return None


def _reaches(scope: WriteScope, places: Places, cell_id: str) -> bool:
    if scope.cell is not None:
        return cell_id == scope.cell
    return places.cells.get(cell_id) in places.subtree


def _accept(event: Event, places: Places) -> None:
    match event:
        case OrgRegisteredEvent(data=d):
            places.subtree.add(d.org_id)
            places.orgs.add(d.org_id)
        case CellRegisteredEvent(data=d):
            places.cells[d.cell_id] = d.org_id
        case MeetingHeldEvent(data=d) | MeetingRetractedEvent(data=d):
            places.meetings[d.meeting_id] = d.cell_id
