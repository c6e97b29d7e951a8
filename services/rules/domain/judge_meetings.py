"""Judges over a cell's meetings one by one: a predicate on each, and the gaps between them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING

from services.contracts.findings import Evidence, Finding
from services.rules.domain.expressions import Getter
from services.rules.domain.model import GapCheck, MeetingCheck
from services.rules.domain.view import CellView

if TYPE_CHECKING:
    from services.rules.domain.compiled import CompiledRule, Judge

_DAY = timedelta(days=1)


def each_meeting(
    check: MeetingCheck, meetings: tuple[str, Getter], require: Getter, observe: Getter | None
) -> Judge:
    """The judge of a predicate every matching meeting must satisfy."""
    key, test = meetings
    expected = " ".join(check.require.split())

    def judge(rule: CompiledRule, view: CellView, passes: bool) -> Iterator[Finding]:
        for meeting in rule.in_force_meetings(view.matching(key, test)):
            violated = not require(meeting)
            if violated or passes:
                observed = evidence(observe(meeting) if observe else not violated)
                yield rule.finding(
                    view,
                    f"meeting/{meeting.meeting_id}",
                    violated,
                    (meeting.day, meeting.day),
                    observed,
                    expected,
                    [meeting.meeting_id],
                    meeting=meeting.meeting_id,
                    date=meeting.day.isoformat(),
                    period=meeting.day.isoformat(),
                )

    return judge


def gaps(check: GapCheck, meetings: tuple[str, Getter]) -> Judge:
    """The judge of the days between matching meetings, from establishment to the horizon.

    Each stretch without a matching meeting is measured in days between its bounding points: the
    establishment date or a meeting date before it, a meeting date or the end (horizon or
    dissolution) after it. Its scope is `since/<first day without a meeting>`.
    """
    key, test = meetings
    limit = check.at_most_days

    def judge(rule: CompiledRule, view: CellView, passes: bool) -> Iterator[Finding]:
        point = first = view.cell.established_on
        before: list[str] = []
        stretches: list[tuple[date, date, date, list[str]]] = []
        for meeting in view.matching(key, test):
            if meeting.day != point:
                stretches.append((point, first, meeting.day, [*before, meeting.meeting_id]))
                point, before = meeting.day, []
            first = point + _DAY  # a meeting day, even the establishment day, is no gap
            before.append(meeting.meeting_id)
        stretches.append((point, first, view.end, before))
        for point, first, until, meeting_ids in stretches:
            if first >= until or not rule.in_force(first):
                continue  # no day without a meeting in between
            days = (until - point).days
            if days > limit or passes:
                yield rule.finding(
                    view,
                    f"since/{first.isoformat()}",
                    days > limit,
                    (first, until - _DAY),
                    days,
                    f"<= {limit} days",
                    meeting_ids,
                    since=first.isoformat(),
                    until=until.isoformat(),
                    days=days,
                    period=f"{first.isoformat()}..{(until - _DAY).isoformat()}",
                )

    return judge


def evidence(value: object) -> Evidence:
    """A value reported as evidence, in a type every consumer of findings can decode."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, int | str):
        return value
    if isinstance(value, tuple | list | frozenset):
        return sorted(int(v) for v in value)
    return str(value)
