"""Judges of calendar periods: a count of meetings, or the topic groups they cover."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from services.contracts.events import CellRegistered
from services.contracts.findings import Evidence, Finding
from services.rules.domain.expressions import Getter
from services.rules.domain.facts import MeetingFact
from services.rules.domain.model import CountCheck, CoverageCheck
from services.rules.domain.periods import (
    first_day,
    judged_periods,
    label,
    last_day,
    months_in,
)
from services.rules.domain.view import CellView

if TYPE_CHECKING:
    from services.rules.domain.compiled import CompiledRule, Judge


def periodic(check: CountCheck | CoverageCheck, meetings: tuple[str, Getter]) -> Judge:
    """The judge of a count or coverage check over each ended calendar period."""
    kind = check.period
    key, test = meetings
    measure = _count(check) if isinstance(check, CountCheck) else _coverage(check)
    least = check.at_least if isinstance(check, CountCheck) else sys.maxsize

    months = months_in(kind)

    def judge(rule: CompiledRule, view: CellView, passes: bool) -> Iterator[Finding]:
        cell = view.cell
        by_period: dict[int, list[MeetingFact]] = {}
        for meeting in view.matching(key, test):  # period_key inlined: it runs per meeting
            by_period.setdefault(meeting.month // months, []).append(meeting)
        periods = judged_periods(kind, cell.established_on, cell.dissolved_on, view.horizon)
        get, enough = by_period.get, least if not passes else sys.maxsize
        for period in periods:
            found = get(period, _NONE)
            if len(found) >= enough:
                continue  # enough meetings for a count; a coverage needs a closer look
            violated, observed, expected = measure(cell, found)
            if not (violated or passes):
                continue
            start = first_day(kind, period)
            if rule.in_force(start):
                span = (start, last_day(kind, period))
                meeting_ids = [m.meeting_id for m in found]
                yield rule.finding(
                    view, label(kind, period), violated, span, observed, expected, meeting_ids
                )

    return judge


_NONE: list[MeetingFact] = []  # shared by every period without meetings; never changed
Measure = Callable[[CellRegistered, list[MeetingFact]], tuple[bool, Evidence, str]]


def _count(check: CountCheck) -> Measure:
    least = check.at_least
    expected = f">= {least}"

    def measure(_cell: CellRegistered, found: list[MeetingFact]) -> tuple[bool, Evidence, str]:
        return len(found) < least, len(found), expected

    return measure


def _coverage(check: CoverageCheck) -> Measure:
    required = {t: sorted(set(groups)) for t, groups in check.required.items()}
    otherwise = sorted(set(check.otherwise))

    def measure(cell: CellRegistered, found: list[MeetingFact]) -> tuple[bool, Evidence, str]:
        wanted = required.get(cell.cell_type, otherwise)
        groups = {group for meeting in found for group in meeting.topic_groups}
        return not groups.issuperset(wanted), sorted(groups), f"includes {wanted}"

    return measure
