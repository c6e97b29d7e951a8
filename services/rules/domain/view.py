"""One cell as the judges see it: its judged meetings, the horizon, and shared filter results."""

from __future__ import annotations

from datetime import date

from services.contracts.events import CellRegistered
from services.rules.domain.expressions import Getter
from services.rules.domain.facts import CellFacts, MeetingFact


class CellView:
    """The meetings a cell may be judged on: from `established_on`, before `end`.

    `end` is the horizon, or `dissolved_on` when earlier. Rules sharing a meeting filter share
    its result, so each filter runs once over the cell's meetings.
    """

    __slots__ = ("_matching", "cell", "end", "horizon", "meetings")

    def __init__(self, facts: CellFacts, horizon: date) -> None:
        cell = facts.cell
        self.cell: CellRegistered = cell
        self.horizon = horizon
        dissolved = cell.dissolved_on
        self.end = horizon if dissolved is None or dissolved > horizon else dissolved
        first, end, meetings = cell.established_on, self.end, facts.meetings
        if meetings and (meetings[0].day < first or meetings[-1].day >= end):
            meetings = [m for m in meetings if first <= m.day < end]
        self.meetings: list[MeetingFact] = meetings
        self._matching: dict[str, list[MeetingFact]] = {}

    def matching(self, key: str, test: Getter) -> list[MeetingFact]:
        """The judged meetings passing `test`, computed once per cell for each filter `key`."""
        found = self._matching.get(key)
        if found is None:
            found = self._matching[key] = [m for m in self.meetings if test(m)]
        return found
