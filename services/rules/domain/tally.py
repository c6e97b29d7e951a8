"""A cell's year tallied once for the org reports: which rules judged it in which period and
which it broke, its annual score, and its months on each monthly rule's calendar.

Passed judgments are not findings, so a report over many cells would otherwise judge every cell
again on every request. A tally holds exactly what the reports read, computed from the same
judgments (passes included) the engine gives, so a report built from tallies says what judging
the cells afresh says:

- per rule, two bit sets over the year's periods (twelve months, four quarters, the year):
  judged in the period, and violated in it. A judgment counts in each period that wholly holds
  it. Gap rules run on to the horizon, so they are judged again up to each period's end, as a
  report of that period alone judges them;
- the annual score, from the year's judgments (`score.score_year`);
- each monthly rule's verdict, or why there is none, for each month.

A tally is good for the pack version and the horizon it was made with, and until the cell's
facts change.
"""

from __future__ import annotations

import enum
import functools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

import msgspec

from services.contracts.findings import Finding, FindingStatus
from services.rules.domain.evaluate import gap_rules, judge_cell
from services.rules.domain.explain import why_not_judged
from services.rules.domain.facts import CellFacts
from services.rules.domain.model import CountCheck, CoverageCheck
from services.rules.domain.pack import CompiledRule, RulePack
from services.rules.domain.periods import PeriodKind, end_day, first_day, last_day, period_of
from services.rules.domain.score import Score, score_year


class Mark(enum.StrEnum):
    """A cell's month on a monthly rule's calendar: judged (passed, violated), or why not."""

    passed = "passed"
    violated = "violated"
    not_ended = "not_ended"
    not_active = "not_active"
    not_in_force = "not_in_force"
    before_start = "before_start"
    not_applicable = "not_applicable"


Period = tuple[PeriodKind, int]
"""A period of a year: its kind and its number in the year (month 1 to 12, quarter 1 to 4, 1)."""

PERIODS: tuple[Period, ...] = (
    *((PeriodKind.month, m) for m in range(1, 13)),
    *((PeriodKind.quarter, q) for q in range(1, 5)),
    (PeriodKind.year, 1),
)
_INDEX = {period: i for i, period in enumerate(PERIODS)}
_BIT = {period: 1 << i for period, i in _INDEX.items()}


@functools.lru_cache(maxsize=4096)
def _set_bits(bits: int) -> tuple[int, ...]:
    """The indexes of the periods in the bit set `bits`."""
    return tuple(i for i in range(len(PERIODS)) if bits >> i & 1)


def bounds(year: int, period: Period) -> tuple[date, date]:
    """The period's first day and the day after its last."""
    kind, number = period
    month = {PeriodKind.month: number, PeriodKind.quarter: 3 * number - 2}.get(kind, 1)
    key = period_of(kind, date(year, month, 1))
    return first_day(kind, key), end_day(kind, key)


def period_at(kind: PeriodKind, start: date) -> Period:
    """The period of `kind` that starts on `start`."""
    number = {PeriodKind.month: start.month, PeriodKind.quarter: (start.month + 2) // 3}
    return kind, number.get(kind, 1)


class RuleTally(msgspec.Struct, array_like=True, frozen=True):
    """One rule over a cell's year: bit sets, by `PERIODS` order, of the periods it judged
    the cell in and of those it found a violation in."""

    judged: int
    violated: int


class CellYear(msgspec.Struct, frozen=True, kw_only=True):
    """What the org reports read of one cell's year."""

    cell_id: str
    year: int
    score: Score
    rules: dict[str, RuleTally]
    months: dict[str, list[Mark]]


def is_monthly(rule: CompiledRule) -> bool:
    """Whether `rule` judges each calendar month (so it has a calendar of months)."""
    check = rule.rule.check
    return isinstance(check, CountCheck | CoverageCheck) and check.period is PeriodKind.month


def tally(pack: RulePack, facts: CellFacts, year: int, horizon: date) -> CellYear:
    """The cell's `year` as judged before `horizon` (at most the year's end) by `pack`."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    horizon = min(horizon, end)
    gaps = gap_rules(pack.rules)
    steady = [rule for rule in pack.rules if rule.id not in gaps]
    gapped = [rule for rule in pack.rules if rule.id in gaps]
    judged: dict[str, int] = {}
    violated: dict[str, int] = {}

    def mark(f: Finding, bits: int) -> None:
        judged[f.rule_id] = judged.get(f.rule_id, 0) | bits
        if f.status is FindingStatus.open:
            violated[f.rule_id] = violated.get(f.rule_id, 0) | bits

    year_found = judged_within(steady, facts, horizon, start, end)
    for f in year_found:
        mark(f, _holding(f))
    for period in PERIODS:
        first, after = bounds(year, period)
        if first >= horizon or not gapped:
            continue
        found = judged_within(gapped, facts, min(horizon, after), first, after)
        for f in found:
            mark(f, _BIT[period])
        if period[0] is PeriodKind.year:
            year_found.extend(found)
    (score,) = score_year([facts.cell.cell_id], year_found, pack.costs, pack.pack, year, horizon)
    # By id, so that cells judged alike store the same bytes.
    rules = {r: RuleTally(judged[r], violated.get(r, 0)) for r in sorted(judged)}
    months = {
        rule.id: _months(rule, facts, year_found, year, horizon)
        for rule in steady
        if is_monthly(rule)
    }
    return CellYear(cell_id=facts.cell.cell_id, year=year, score=score, rules=rules, months=months)


def judged_within(
    rules: Sequence[CompiledRule], facts: CellFacts, horizon: date, start: date, end: date
) -> list[Finding]:
    """Every judgment (passed ones as `resolved`) lying wholly within [start, end)."""
    return [
        f
        for f in judge_cell(rules, facts, horizon, since=start, passes=True)
        if f.period_start >= start and f.period_end < end
    ]


def _holding(f: Finding) -> int:
    """The bits of the periods of its year that wholly hold the judgment `f`."""
    bits = _BIT[(PeriodKind.year, 1)]
    for kind in (PeriodKind.month, PeriodKind.quarter):
        if period_of(kind, f.period_start) == period_of(kind, f.period_end):
            bits |= _BIT[period_at(kind, f.period_start)]
    return bits


def _months(
    rule: CompiledRule, facts: CellFacts, found: Iterable[Finding], year: int, horizon: date
) -> list[Mark]:
    if not rule.applies_to(facts.cell):
        return [Mark.not_applicable] * 12
    marks: list[Mark] = []
    for month in range(1, 13):
        key = period_of(PeriodKind.month, date(year, month, 1))
        first, last = first_day(PeriodKind.month, key), last_day(PeriodKind.month, key)
        marks.append(Mark(why_not_judged(rule, facts, first, last, horizon)))
    for f in found:
        if f.rule_id == rule.id and f.period_start.month == f.period_end.month:
            marks[f.period_start.month - 1] = (
                Mark.violated if f.status is FindingStatus.open else Mark.passed
            )
    return marks


class RuleCount(msgspec.Struct, frozen=True):
    """Cells a rule judged in a period, and cells it found a violation in."""

    judged: int
    violated: int


def count(
    cells: Iterable[tuple[Mapping[str, RuleTally], int]], periods: Sequence[Period]
) -> list[dict[str, RuleCount]]:
    """For each of `periods`, per rule id, how many cells the rule judged in it and found a
    violation in (a rule that judged none is left out); `cells` are the rules' tallies of
    cells, each with how many cells have them."""
    # Cells of an org mostly share a few patterns: count each pattern once, each period of
    # it (a set bit) once.
    patterns: Counter[tuple[str, int, int]] = Counter()
    for rules, sharing in cells:
        for rule_id, rule in rules.items():
            patterns[(rule_id, rule.judged, rule.violated)] += sharing
    judged: dict[str, list[int]] = {}
    violated: dict[str, list[int]] = {}
    for (rule_id, was_judged, was_violated), sharing in patterns.items():
        judged_in = judged.setdefault(rule_id, [0] * len(PERIODS))
        violated_in = violated.setdefault(rule_id, [0] * len(PERIODS))
        for index in _set_bits(was_judged):
            judged_in[index] += sharing
            if was_violated >> index & 1:
                violated_in[index] += sharing
    counted: list[dict[str, RuleCount]] = []
    for period in periods:
        index = _INDEX[period]
        counted.append(
            {r: RuleCount(n[index], violated[r][index]) for r, n in judged.items() if n[index]}
        )
    return counted
