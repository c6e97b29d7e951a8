"""Judges of each member's absences over a year: distinct months, or the longest run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import groupby
from typing import TYPE_CHECKING

from services.contracts.findings import Finding
from services.rules.domain.expressions import Getter
from services.rules.domain.facts import MeetingFact
from services.rules.domain.model import MemberCheck
from services.rules.domain.view import CellView

if TYPE_CHECKING:
    from services.rules.domain.compiled import CompiledRule, Judge


def members(check: MemberCheck, meetings: tuple[str, Getter]) -> Judge:
    """The judge of a yearly measure of each member's excused or unexcused absences."""
    key, test = meetings
    measure = _distinct_months if check.measure == "distinct_months" else _longest_runs
    excused = check.absence == "excused"
    limit = check.at_most

    def judge(rule: CompiledRule, view: CellView, passes: bool) -> Iterator[Finding]:
        in_force = rule.in_force_meetings(view.matching(key, test))
        for year, of_year in groupby(in_force, key=_year):
            for member, meeting_ids in sorted(measure(of_year, excused).items()):
                value = _size(meeting_ids, check.measure == "distinct_months")
                if value > limit or passes:
                    yield rule.finding(
                        view,
                        f"member/{member}/{year}",
                        value > limit,
                        (date(year, 1, 1), date(year, 12, 31)),
                        value,
                        f"<= {limit}",
                        [m.meeting_id for m in meeting_ids],
                        member=member,
                        year=year,
                        period=str(year),
                    )

    return judge


def _year(meeting: MeetingFact) -> int:
    return meeting.month // 12


def _absent(meeting: MeetingFact, excused: bool) -> tuple[str, ...]:
    return meeting.excused if excused else meeting.unexcused


def _distinct_months(
    meetings: Iterator[MeetingFact], excused: bool
) -> dict[str, list[MeetingFact]]:
    """Per member, every meeting they missed this way (their months are counted later)."""
    missed: dict[str, list[MeetingFact]] = {}
    for meeting in meetings:
        for member in _absent(meeting, excused):
            missed.setdefault(member, []).append(meeting)
    return missed


def _longest_runs(meetings: Iterator[MeetingFact], excused: bool) -> dict[str, list[MeetingFact]]:
    """Per member, their longest run of consecutive meetings missed this way (first if tied)."""
    current: dict[str, list[MeetingFact]] = {}
    longest: dict[str, list[MeetingFact]] = {}
    for meeting in meetings:
        absent = _absent(meeting, excused)
        for member in [m for m in current if m not in absent]:
            _close(longest, member, current.pop(member))
        for member in absent:
            current.setdefault(member, []).append(meeting)
    for member, run in current.items():
        _close(longest, member, run)
    return longest


def _close(longest: dict[str, list[MeetingFact]], member: str, run: list[MeetingFact]) -> None:
    if len(run) > len(longest.get(member, ())):
        longest[member] = run


def _size(meetings: list[MeetingFact], by_month: bool) -> int:
    return len({m.month for m in meetings}) if by_month else len(meetings)
