"""Judges of calendar periods: a count of meetings, or the topic groups they cover."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from services.contracts.findings import Finding
from services.rules.engine.expressions import Getter
from services.rules.engine.facts import MeetingFact
from services.rules.engine.model import CountCheck, CoverageCheck
from services.rules.engine.periods import first_day, judged_periods, label, last_day, period_key
from services.rules.engine.view import CellView

if TYPE_CHECKING:
    from services.rules.engine.compiled import CompiledRule, Judge


def periodic(check: CountCheck | CoverageCheck, meetings: tuple[str, Getter]) -> Judge:
    """The judge of a count or coverage check over each ended calendar period."""
    kind = check.period
    key, test = meetings

    def judge(rule: CompiledRule, view: CellView, passes: bool) -> Iterator[Finding]:
        cell = view.cell
        by_period: dict[int, list[MeetingFact]] = {}
        for meeting in view.matching(key, test):
            by_period.setdefault(period_key(kind, meeting.month), []).append(meeting)
        if isinstance(check, CoverageCheck):
            required = sorted(set(check.required.get(cell.cell_type, check.otherwise)))
        for period in judged_periods(kind, cell.established_on, cell.dissolved_on, view.horizon):
            start = first_day(kind, period)
            if not rule.in_force(start):
                continue
            found = by_period.get(period, [])
            if isinstance(check, CountCheck):
                observed: int | list[int] = len(found)
                expected = f">= {check.at_least}"
                violated = len(found) < check.at_least
            else:
                groups = {group for meeting in found for group in meeting.topic_groups}
                observed, expected = sorted(groups), f"includes {required}"
                violated = not groups.issuperset(required)
            if violated or passes:
                yield rule.finding(
                    view,
                    label(kind, period),
                    violated,
                    (start, last_day(kind, period)),
                    observed,
                    expected,
                    [m.meeting_id for m in found],
                )

    return judge
