"""A cell's year tallied once says what the org reports say when they judge the cell afresh:
the periodic report of every month, quarter and year, the annual score, the monthly calendar."""

from __future__ import annotations

from collections import Counter
from datetime import date

import msgspec
import pytest

from bench.generate import events
from services.contracts.codec import decode_event
from services.contracts.findings import Finding, FindingStatus
from services.rules.adapters import tallies as tallies_db
from services.rules.domain.evaluate import judge_cell
from services.rules.domain.explain import why_not_judged
from services.rules.domain.facts import CellFacts
from services.rules.domain.pack import RulePack
from services.rules.domain.periods import PeriodKind, last_day, period_of
from services.rules.domain.score import score_year
from services.rules.domain.tally import (
    PERIODS,
    Mark,
    Period,
    RuleCount,
    bounds,
    count,
    is_monthly,
    tally,
)
from tests.builders import default_pack, facts_of


@pytest.fixture(scope="module")
def cells() -> list[CellFacts]:
    """About forty synthetic cells over 2019 to 2025, corrections and retractions included."""
    history = [decode_event(msgspec.json.encode(e)) for e in events(3000, seed=7)]
    return list(facts_of(history).cells())


def _judged(
    pack: RulePack, facts: CellFacts, start: date, end: date, horizon: date
) -> list[Finding]:
    """What a report of [start, end) alone judges: every rule up to the period's end."""
    return [
        f
        for f in judge_cell(pack.rules, facts, min(horizon, end), since=start, passes=True)
        if f.period_start >= start and f.period_end < end
    ]


def _report(
    pack: RulePack, cells: list[CellFacts], year: int, period: Period, horizon: date
) -> dict[str, RuleCount]:
    start, end = bounds(year, period)
    judged: dict[str, set[str]] = {}
    violated: dict[str, set[str]] = {}
    for facts in cells:
        if start >= horizon:
            break
        for f in _judged(pack, facts, start, end, horizon):
            judged.setdefault(f.rule_id, set()).add(f.cell_id)
            if f.status is FindingStatus.open:
                violated.setdefault(f.rule_id, set()).add(f.cell_id)
    return {r: RuleCount(len(c), len(violated.get(r, ()))) for r, c in judged.items()}


# Mid-year, the last day of a year, the first day of the next: running and ended periods.
HORIZONS = [date(2025, 6, 15), date(2025, 12, 31), date(2026, 1, 1)]


@pytest.mark.parametrize("horizon", HORIZONS, ids=str)
@pytest.mark.parametrize("year", [2024, 2025])
def test_every_periods_report_from_tallies_is_the_report_judged_afresh(
    cells: list[CellFacts], year: int, horizon: date
) -> None:
    pack = default_pack()
    tallies = [tally(pack, facts, year, horizon) for facts in cells]
    assert any(t.rules for t in tallies)
    counted = count([(t.rules, 1) for t in tallies], PERIODS)
    # Cells judged alike store the same bytes, and counting each pattern once says the same.
    shared = Counter(tallies_db.encode(t, tallies_db.RULES) for t in tallies)
    assert len(shared) < len(tallies)
    grouped = [(tallies_db.RULES.decode(raw), n) for raw, n in shared.items()]
    assert count(grouped, PERIODS) == counted
    for period, counts in zip(PERIODS, counted, strict=True):
        assert counts == _report(pack, cells, year, period, horizon), period
    violated = counted[-1]
    assert any(c.violated for c in violated.values())
    assert any(c.violated < c.judged for c in violated.values())


@pytest.mark.parametrize("horizon", HORIZONS, ids=str)
def test_the_tallied_score_is_the_score_of_the_years_judgments(
    cells: list[CellFacts], horizon: date
) -> None:
    pack, year = default_pack(), 2025
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    found = [f for facts in cells for f in _judged(pack, facts, start, end, horizon)]
    ids = [facts.cell.cell_id for facts in cells]
    expected = score_year(ids, found, pack.costs, pack.pack, year, min(horizon, end))
    assert [tally(pack, facts, year, horizon).score for facts in cells] == expected
    assert {s.status.value for s in expected} >= {"provisional" if horizon < end else "final"}


def test_the_tallied_calendar_marks_each_month_as_its_rule_judged_it(
    cells: list[CellFacts],
) -> None:
    pack, year, horizon = default_pack(), 2025, date(2025, 9, 10)
    monthly = [rule for rule in pack.rules if is_monthly(rule)]
    assert monthly
    seen: set[Mark] = set()
    for facts in cells:
        got = tally(pack, facts, year, horizon).months
        for rule in monthly:
            verdicts = {
                f.scope: f.status
                for f in judge_cell([rule], facts, horizon, passes=True)
                if f.period_start.year == year and f.period_start.month == f.period_end.month
            }
            expected = []
            for month in range(1, 13):
                key = period_of(PeriodKind.month, date(year, month, 1))
                first, last = date(year, month, 1), last_day(PeriodKind.month, key)
                status = verdicts.get(f"{year}-{month:02d}")
                if not rule.applies_to(facts.cell):
                    expected.append(Mark.not_applicable)
                elif status is None:
                    expected.append(Mark(why_not_judged(rule, facts, first, last, horizon)))
                else:
                    violated = status is FindingStatus.open
                    expected.append(Mark.violated if violated else Mark.passed)
            assert got[rule.id] == expected, (facts.cell.cell_id, rule.id)
            seen.update(expected)
    assert {Mark.passed, Mark.violated, Mark.not_ended} <= seen


def test_each_part_of_a_tally_survives_its_storage_form(cells: list[CellFacts]) -> None:
    made = tally(default_pack(), cells[0], 2025, date(2025, 12, 1))
    for part in (tallies_db.SCORE, tallies_db.RULES, tallies_db.MONTHS):
        kept = part.of(made)
        assert part.decode(msgspec.msgpack.encode(kept)) == kept, part.column
