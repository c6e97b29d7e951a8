"""Reports computed by the engine on demand: a cell's compliance, an org's summary, a score.

Passed judgments are not stored (only violations are findings), so these judge the stored facts
again with `passes=True`; the engine is the same one that keeps the findings.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import date

import msgspec

from services.contracts.findings import Finding, FindingStatus, Mode
from services.infra.database import Connection
from services.infra.errors import InvalidInputError
from services.rules.adapters import repository
from services.rules.domain.evaluate import judge_cell
from services.rules.domain.facts import CellFacts
from services.rules.domain.pack import RulePack
from services.rules.domain.periods import PeriodKind, end_day, first_day, period_of
from services.rules.domain.score import Score, score_year
from services.rules.service.judging import Judge

_PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>0[1-9]|1[0-2])|-Q(?P<quarter>[1-4]))?$")
CHUNK_CELLS = 200


class RuleSummary(msgspec.Struct, kw_only=True):
    """One rule over one period for every cell under an org: the periodic report's row."""

    rule_id: str
    title_vi: str
    title_en: str
    mode: Mode
    cells_judged: int
    cells_violated: int
    compliant_percent: float | None


def parse_period(text: str) -> tuple[date, date]:
    """`2024-03`, `2024-Q1` or `2024` as its first day and the day after its last."""
    match = _PERIOD.match(text)
    if match is None:
        raise InvalidInputError(f"period `{text}` is not YYYY, YYYY-MM or YYYY-Qn", field="period")
    year = int(match["year"])
    if match["month"]:
        kind, day = PeriodKind.month, date(year, int(match["month"]), 1)
    elif match["quarter"]:
        kind, day = PeriodKind.quarter, date(year, 3 * int(match["quarter"]) - 2, 1)
    else:
        kind, day = PeriodKind.year, date(year, 1, 1)
    key = period_of(kind, day)
    return first_day(kind, key), end_day(kind, key)


async def judgments(
    conn: Connection, judge: Judge, cell_ids: Sequence[str], start: date, end: date
) -> list[Finding]:
    """Every judgment (passed ones as `resolved`) lying within [start, end), up to today."""
    pack, horizon = judge.pack, min(judge.horizon(), end)
    found: list[Finding] = []
    for offset in range(0, len(cell_ids), CHUNK_CELLS):
        chunk = cell_ids[offset : offset + CHUNK_CELLS]
        cells = await repository.load_cells(conn, chunk, judge.meetings)
        # Judging a large org takes a while: off the event loop, which goes on serving.
        found.extend(await asyncio.to_thread(_within, pack, cells, horizon, start, end))
    return found


def _within(
    pack: RulePack, cells: list[CellFacts], horizon: date, start: date, end: date
) -> list[Finding]:
    return [
        f
        for facts in cells
        for f in judge_cell(pack.rules, facts, horizon, since=start, passes=True)
        if f.period_start >= start and f.period_end < end
    ]


async def org_summary(
    conn: Connection, judge: Judge, cell_ids: Sequence[str], period: str
) -> list[RuleSummary]:
    """Per rule: cells judged in `period`, cells violated, and the share compliant."""
    start, end = parse_period(period)
    judged: dict[str, set[str]] = {rule.id: set() for rule in judge.pack.rules}
    violated: dict[str, set[str]] = {rule.id: set() for rule in judge.pack.rules}
    for f in await judgments(conn, judge, cell_ids, start, end):
        judged[f.rule_id].add(f.cell_id)
        if f.status is FindingStatus.open:
            violated[f.rule_id].add(f.cell_id)
    rows = []
    for rule in judge.pack.rules:
        total, bad = len(judged[rule.id]), len(violated[rule.id])
        rows.append(
            RuleSummary(
                rule_id=rule.id,
                title_vi=rule.rule.title.vi,
                title_en=rule.rule.title.en,
                mode=rule.mode,
                cells_judged=total,
                cells_violated=bad,
                compliant_percent=round(100 * (total - bad) / total, 1) if total else None,
            )
        )
    return rows


async def cell_score(conn: Connection, judge: Judge, cell_id: str, year: int) -> Score:
    """The cell's annual score and band from the violations of `year` judged so far."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    pack = judge.pack
    weights = {rule.id: rule.rule.weight for rule in pack.rules}
    found = await judgments(conn, judge, [cell_id], start, end)
    return score_year([cell_id], found, weights, pack.pack, year)[0]
