"""The judges: for each kind of check, the function that gives one rule's verdicts on one cell.

A judge sees the cell through a `CellView` (its judged meetings and the horizon) and asks its
rule (a `JudgedRule`) only whether it was in force and to write a finding.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from itertools import groupby
from typing import Any

from services.contracts.events import CellRegistered
from services.contracts.findings import MAX_MEETING_IDS, Evidence, Finding, FindingStatus, Text
from services.rules.domain.expressions import Getter
from services.rules.domain.facts import CellFacts, MeetingFact
from services.rules.domain.model import (
    CountCheck,
    CoverageCheck,
    GapCheck,
    MemberCheck,
    Rule,
)
from services.rules.domain.periods import (
    first_day,
    judged_periods,
    label,
    last_day,
    months_in,
)
from services.rules.domain.texts import Groups, Meeting, Period, RuleTexts, Span, Value, Year


class CellView:
    """The meetings a cell may be judged on: from `established_on`, before `end`.

    `end` is the horizon, or `dissolved_on` when earlier. Rules sharing a meeting filter share
    its result, so each filter runs once over the cell's meetings. `judged_from` is the org's
    judging start (see `CellFacts`); a rule judges from `start_for(rule)`.
    """

    __slots__ = ("_matching", "cell", "end", "horizon", "judged_from", "meetings")

    def __init__(self, facts: CellFacts, horizon: date) -> None:
        cell = facts.cell
        self.cell: CellRegistered = cell
        self.horizon = horizon
        self.judged_from = facts.judged_from
        dissolved = cell.dissolved_on
        self.end = horizon if dissolved is None or dissolved > horizon else dissolved
        first, end, meetings = cell.established_on, self.end, facts.meetings
        if meetings and (meetings[0].day < first or meetings[-1].day >= end):
            meetings = [m for m in meetings if first <= m.day < end]
        self.meetings: list[MeetingFact] = meetings
        self._matching: dict[str, list[MeetingFact]] = {}

    def start_for(self, rule: JudgedRule) -> date:
        """The first day `rule` judges the cell on: its establishment, or the judging start —
        the org's, else the pack's — when later. Like a cell founded mid-period, a period that
        starts before it is not judged, and no gap counts before it."""
        return judging_start(self.cell, self.judged_from, rule) or self.cell.established_on

    def matching(self, key: str, test: Getter) -> list[MeetingFact]:
        """The judged meetings passing `test`, computed once per cell for each filter `key`."""
        found = self._matching.get(key)
        if found is None:
            found = self._matching[key] = [m for m in self.meetings if test(m)]
        return found


def judging_start(cell: CellRegistered, org_start: date | None, rule: JudgedRule) -> date | None:
    """The judging start that holds for `cell` under `rule` — the org's (`org_start`), else
    the pack's — when it is later than the cell's establishment; None when it is not."""
    start = org_start or rule.judged_from
    return start if start is not None and start > cell.established_on else None


class JudgedRule:
    """What a judge asks of the rule it judges for: whether it was in force, and to write a
    finding. A compiled rule (`pack.CompiledRule`) is one."""

    def __init__(self, rule: Rule, version: str, texts: RuleTexts) -> None:
        self.rule, self.version, self.texts = rule, version, texts
        self.id, self.severity, self.mode = rule.id, rule.severity, rule.mode
        self.dated = rule.effective_from is not None or rule.effective_until is not None
        self.judged_from: date | None = None  # the pack's judging start, set when it compiles

    def in_force(self, day: date) -> bool:
        """Whether the rule was in force on `day` (its effective dates)."""
        start, until = self.rule.effective_from, self.rule.effective_until
        return (start is None or day >= start) and (until is None or day < until)

    def in_force_meetings(self, meetings: list[MeetingFact]) -> list[MeetingFact]:
        """The meetings held while the rule was in force (all of them for an undated rule)."""
        if not self.dated:  # the common case costs nothing per meeting
            return meetings
        return [m for m in meetings if self.in_force(m.day)]

    def finding(
        self,
        view: CellView,
        scope: str,
        violated: bool,
        span: tuple[date, date],
        measured: Evidence,
        expected: str,
        meeting_ids: list[str],
        **values: Value,
    ) -> Finding:
        """A finding of this rule, its text filled with the evidence: the rule's message for a
        violation, neutral words for a pass. `values` fill the placeholders (`period` at
        least); `observed` among them when it reads otherwise than the evidence."""
        cell_id = view.cell.cell_id
        if isinstance(measured, float) and not math.isfinite(measured):
            measured = str(measured)  # JSON has no infinity; "inf" still reads as what it is
        values.setdefault("observed", measured)
        values["cell"] = view.cell.name
        vi, en = self.texts.render(values, violated)
        return Finding(
            rule_id=self.id,
            cell_id=cell_id,
            scope=scope,
            status=FindingStatus.open if violated else FindingStatus.resolved,
            severity=self.severity,
            mode=self.mode,
            period_start=span[0],
            period_end=span[1],
            observed=measured,
            expected=expected,
            meeting_ids=meeting_ids[:MAX_MEETING_IDS],
            meeting_count=len(meeting_ids),
            rule_version=self.version,
            message=Text(vi=vi, en=en),
        )


Verdicts = Callable[[JudgedRule, CellView, bool], Iterator[Finding]]
"""One rule's verdicts on one cell: its violations and, when asked (`passes`), its passes."""


def periodic(
    check: CountCheck | CoverageCheck, meetings: tuple[str, Getter], least: int = sys.maxsize
) -> Verdicts:
    """The judge of a count or coverage check over each ended calendar period; a count needs
    `least` meetings in each."""
    kind = check.period
    key, test = meetings
    measure = _count(least) if isinstance(check, CountCheck) else _coverage(check)

    months = months_in(kind)

    def judge(rule: JudgedRule, view: CellView, passes: bool) -> Iterator[Finding]:
        cell = view.cell
        by_period: dict[int, list[MeetingFact]] = {}
        for meeting in view.matching(key, test):  # period_key inlined: it runs per meeting
            by_period.setdefault(meeting.month // months, []).append(meeting)
        periods = judged_periods(kind, view.start_for(rule), cell.dissolved_on, view.horizon)
        get, enough = by_period.get, least if not passes else sys.maxsize
        for period in periods:
            found = get(period, _NONE)
            if len(found) >= enough:
                continue  # enough meetings for a count; a coverage needs a closer look
            violated, observed, expected, values = measure(cell, found)
            if not (violated or passes):
                continue
            start = first_day(kind, period)
            if rule.in_force(start):
                span = (start, last_day(kind, period))
                meeting_ids = [m.meeting_id for m in found]
                yield rule.finding(
                    view, label(kind, period), violated, span, observed, expected, meeting_ids,
                    period=Period(kind, period), **values,
                )  # fmt: skip

    return judge


_NONE: list[MeetingFact] = []  # shared by every period without meetings; never changed
Measured = tuple[bool, Evidence, str, dict[str, Value]]
"""Violated or not, the evidence observed and expected, and what the texts may show of it."""
Measure = Callable[[CellRegistered, list[MeetingFact]], Measured]
_NO_VALUES: dict[str, Value] = {}


def _count(least: int) -> Measure:
    expected = f">= {least}"

    def measure(_cell: CellRegistered, found: list[MeetingFact]) -> Measured:
        return len(found) < least, len(found), expected, _NO_VALUES

    return measure


def _coverage(check: CoverageCheck) -> Measure:
    required = {t: sorted(set(groups)) for t, groups in check.required.items()}
    otherwise = sorted(set(check.otherwise))

    def measure(cell: CellRegistered, found: list[MeetingFact]) -> Measured:
        wanted = required.get(cell.cell_type, otherwise)
        groups = {group for meeting in found for group in meeting.topic_groups}
        values: dict[str, Value] = {
            "required": Groups(wanted),
            "missing": Groups(g for g in wanted if g not in groups),
        }
        return not groups.issuperset(wanted), sorted(groups), f"includes {wanted}", values

    return measure


_DAY = timedelta(days=1)


def each_meeting(
    meetings: tuple[str, Getter], require: Getter, observe: Getter | None, expected: str
) -> Verdicts:
    """The judge of a predicate every matching meeting must satisfy; a finding records
    `expected` as what was required."""
    key, test = meetings

    def judge(rule: JudgedRule, view: CellView, passes: bool) -> Iterator[Finding]:
        start = view.start_for(rule)
        for meeting in rule.in_force_meetings(view.matching(key, test)):
            if meeting.day < start:
                continue  # before the judging start
            violated = not require(meeting)
            if violated or passes:
                seen = observe(meeting) if observe else not violated
                yield rule.finding(
                    view,
                    f"meeting/{meeting.meeting_id}",
                    violated,
                    (meeting.day, meeting.day),
                    evidence(seen),
                    expected,
                    [meeting.meeting_id],
                    observed=_shown(seen),
                    meeting=Meeting(meeting),
                    date=meeting.day,
                    period=meeting.day,
                )

    return judge


def _shown(value: Any) -> Value:
    """An observed value as the texts show it: a number, a yes or no, or topic groups."""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple | list | frozenset):
        return Groups(sorted(int(v) for v in value))
    return str(value)


def gaps(check: GapCheck, meetings: tuple[str, Getter], limit: int) -> Verdicts:
    """The judge of the days between matching meetings, from establishment to the horizon.

    Each stretch without a matching meeting is measured in days between its bounding points: the
    establishment date or a meeting date before it, a meeting date or the end (horizon or
    dissolution) after it. Its scope is `since/<first day without a meeting>`.
    """
    key, test = meetings

    def judge(rule: JudgedRule, view: CellView, passes: bool) -> Iterator[Finding]:
        point = first = start = view.start_for(rule)
        before: list[str] = []
        stretches: list[tuple[date, date, date, list[str]]] = []
        for meeting in view.matching(key, test):
            if meeting.day < start:
                continue  # before the judging start: no gap counts there
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
                    since=first,
                    until=until,
                    days=days,
                    period=Span(first, until - _DAY),
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


def members(check: MemberCheck, meetings: tuple[str, Getter], limit: int) -> Verdicts:
    """The judge of a yearly measure of each member's excused or unexcused absences."""
    key, test = meetings
    measure = _distinct_months if check.measure == "distinct_months" else _longest_runs
    excused = check.absence == "excused"

    def judge(rule: JudgedRule, view: CellView, passes: bool) -> Iterator[Finding]:
        in_force = rule.in_force_meetings(view.matching(key, test))
        start = view.start_for(rule)
        for year, of_year in groupby(in_force, key=_year):
            if date(year, 1, 1) < start and start > view.cell.established_on:
                continue  # a year that starts before the judging start is not judged
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
                        year=Year(year),
                        period=Year(year),
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
