"""Judging facts against a rule pack up to an exclusive horizon date: every cell whole (a backtest,
a period end), or only what a change can affect (`cut`: the calendar years its meetings fall in).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date, timedelta

from services.contracts.findings import Finding
from services.rules.domain.facts import CellFacts, FactSource
from services.rules.domain.judges import CellView
from services.rules.domain.model import GapCheck
from services.rules.domain.pack import CompiledRule
from services.rules.domain.reconcile import Key, Stored


def evaluate(
    rules: Sequence[CompiledRule],
    source: FactSource,
    horizon: date,
    *,
    since: date | None = None,
    passes: bool = False,
) -> Iterator[Finding]:
    """Every violation (and, with `passes`, every passed judgment) before `horizon`.

    Cells are judged one at a time, each in one pass per distinct meeting filter over its
    meetings, so memory holds one cell's working set beside the facts. With `since`, only
    judgments whose period ends on or after that date are yielded.
    """
    for facts in source.cells():
        yield from judge_cell(rules, facts, horizon, since=since, passes=passes)


def judge_cell(
    rules: Sequence[CompiledRule],
    facts: CellFacts,
    horizon: date,
    *,
    since: date | None = None,
    passes: bool = False,
) -> Iterator[Finding]:
    """The judgments of one cell (see `evaluate`)."""
    view = CellView(facts, horizon)
    for rule in rules:
        if not rule.applies_to(view.cell):
            continue
        for finding in rule.judge(rule, view, passes):
            if since is None or finding.period_end >= since:
                yield finding


# Judging only what a change can affect. A meeting held, corrected or retracted changes the
# judgments of the periods of its year (every month, quarter and year lies within one calendar
# year, and so does each member's yearly measure), the meeting itself, and the gaps around it.
# So a cell touched by such events is judged again over those years only: period and meeting
# rules see that year's meetings alone, and gap rules, which need the neighbouring meetings
# however far away they are, see them all; findings whose span (with the meeting days that bound
# a gap) does not touch the years, stored or judged now, are left out of the comparison: judging
# the whole cell would not change them.
Years = frozenset[int]


def cut(
    rules: Sequence[CompiledRule],
    facts: CellFacts,
    horizon: date,
    years: Years,
    stored: Mapping[Key, Stored],
) -> tuple[list[Finding], dict[Key, Stored]]:
    """The judgments over `years` of one cell, and the stored findings they answer for.

    A finding is in question when its span (stored, or as judged now) touches the years: a
    gap that a new meeting shortens may no longer reach them, yet it must be compared.
    """
    found = list(_judge(rules, facts, horizon, years))
    gaps = gap_rules(rules)
    keys = {
        key
        for key, kept in stored.items()
        if _holds(key[0], kept.period_start, kept.period_end, years, gaps)
    } | {f.key for f in found if _holds(f.rule_id, f.period_start, f.period_end, years, gaps)}
    return [f for f in found if f.key in keys], {k: v for k, v in stored.items() if k in keys}


def _judge(
    rules: Sequence[CompiledRule], facts: CellFacts, horizon: date, years: Years
) -> Iterator[Finding]:
    # Period, meeting and member rules see the years' meetings alone and answer for those
    # years; gap rules see every meeting, since a gap's ends may lie anywhere.
    gaps = [rule for rule in rules if _is_gap(rule)]
    others = [rule for rule in rules if not _is_gap(rule)]
    if others:
        meetings = [m for m in facts.meetings if m.day.year in years]
        trimmed = CellFacts(facts.cell, meetings, facts.judged_from)
        yield from (f for f in judge_cell(others, trimmed, horizon) if f.period_start.year in years)
    if gaps:
        yield from judge_cell(gaps, facts, horizon)


def _holds(rule_id: str, start: date, end: date, years: Years, gap_rules: Collection[str]) -> bool:
    if rule_id in gap_rules:
        # A gap is bounded by the meeting days just outside it: the meeting of 31 December
        # opens `since/<next year>-01-01`, so that gap belongs to both years.
        before, after = start - timedelta(days=1), end + timedelta(days=1)
        return any(before.year <= y <= after.year for y in years)
    return start.year in years


def gap_rules(rules: Iterable[CompiledRule]) -> frozenset[str]:
    """Ids of the rules whose judgments span years (gaps)."""
    return frozenset(rule.id for rule in rules if _is_gap(rule))


def _is_gap(rule: CompiledRule) -> bool:
    return isinstance(rule.rule.check, GapCheck)
