"""What readers ask of the rules service: findings and cells, and the reports computed by the
engine (a cell's compliance, an org's summary, trend and calendar, a score, an explained finding).

Passed judgments are not stored as findings, so a cell's own reports judge its stored facts again
with `passes=True`, and an org's read each cell's year tallied once from the same judgments
(`domain.tally`, kept until the pack, the horizon or the cell's facts change); the engine is the
same one that keeps the findings. Everything is within the caller's reach: lists show nothing
beyond it, and one thing out of reach reads as absent (404), like one that does not exist.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import TypeVar

import asyncpg
import msgspec

from services.contracts.calendar import EARLIEST, LATEST, SPAN, within_span
from services.contracts.findings import Mode
from services.infra.auth.scope import Scoped, cell_visible, org_visible, reach
from services.infra.database import Connection
from services.infra.errors import InvalidInputError, NotFoundError
from services.rules.adapters import queries, repository, tallies
from services.rules.adapters.queries import CellRecord, FindingFilter, FindingRecord
from services.rules.domain.evaluate import judge_cell
from services.rules.domain.explain import (
    NOT_JUDGED,
    Explanation,
    Judgment,
    explain,
    render,
    year_rows,
)
from services.rules.domain.facts import CellFacts
from services.rules.domain.pack import RulePack
from services.rules.domain.periods import PeriodKind, label, period_of
from services.rules.domain.score import Score, standing
from services.rules.domain.tally import (
    PERIODS,
    CellYear,
    Mark,
    Period,
    RuleCount,
    RuleTally,
    bounds,
    count,
    is_monthly,
    judged_within,
    tally,
)
from services.rules.service.judging import Judge

T = TypeVar("T")
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


def parse_period(text: str) -> tuple[int, Period]:
    """`2024-03`, `2024-Q1` or `2024` as its year and the period of that year."""
    match = _PERIOD.match(text)
    # The text is not repeated: a problem never carries what the query held.
    wrong = f"`period` must be YYYY, YYYY-MM or YYYY-Qn, from {EARLIEST.year} to {LATEST.year}"
    if match is None or not EARLIEST.year <= int(match["year"]) <= LATEST.year:
        raise InvalidInputError(wrong, field="period")
    year = int(match["year"])
    if match["month"]:
        return year, (PeriodKind.month, int(match["month"]))
    if match["quarter"]:
        return year, (PeriodKind.quarter, int(match["quarter"]))
    return year, (PeriodKind.year, 1)


class FindingPage(msgspec.Struct):
    """One page of findings; pass `next_after` as `after` for the next page (null at the end)."""

    items: list[FindingRecord]
    next_after: int | None


async def list_findings(pool: asyncpg.Pool, claims: Scoped, filters: FindingFilter) -> FindingPage:
    """Findings of the cells the caller reaches, by id, narrowed by every filter given."""
    # Without an offset the instant is ambiguous by seven hours for a reader in Vietnam.
    if filters.since is not None and filters.since.tzinfo is None:
        raise InvalidInputError(
            "`since` needs an offset, e.g. 2025-12-01T00:00:00+07:00", field="since"
        )
    if not within_span(filters.since):
        raise InvalidInputError(f"`since` must lie {SPAN}", field="since")
    within = reach(claims)
    mine = msgspec.structs.replace(filters, reach_org=within.org, reach_cell=within.cell)
    async with pool.acquire() as conn:
        items = await queries.list_findings(conn, mine)
    return FindingPage(items, items[-1].id if len(items) == filters.limit else None)


class CellPage(msgspec.Struct):
    """One page of cells; pass `next_after` as `after` for the next page (null at the end)."""

    items: list[CellRecord]
    next_after: str | None


async def list_cells(
    pool: asyncpg.Pool,
    judge: Judge,
    claims: Scoped,
    org_id: str | None,
    after: str,
    limit: int,
    year: int | None = None,
    only: Collection[str] | None = None,
) -> CellPage:
    """Cells the caller reaches (under `org_id` and among `only` if given), by id, with their
    open findings, and with their standing in `year` when it is given."""
    async with pool.acquire() as conn:
        items = await queries.list_cells(conn, org_id, after, limit, reach(claims), only)
        if year is not None:
            ids = [cell.cell_id for cell in items]
            scores = await tallied(conn, judge, ids, year, tallies.SCORE)
            items = [
                msgspec.structs.replace(cell, score=standing(score))
                for cell, score in zip(items, scores, strict=True)
            ]
    return CellPage(items, items[-1].cell_id if len(items) == limit else None)


class Compliance(msgspec.Struct):
    """A cell's year, rule by rule: every judgment, passed or violated, and the periods not
    judged (yet), each in plain words."""

    cell_id: str
    year: int
    judgments: list[Judgment]


async def visible_cell(conn: Connection, claims: Scoped, cell_id: str) -> None:
    """404 unless the cell is registered and within the caller's reach."""
    if not await cell_visible(conn, "rules", claims, cell_id) or not await repository.cell_exists(
        conn, cell_id
    ):
        raise NotFoundError(f"no cell `{cell_id}`")


async def cell_compliance(
    pool: asyncpg.Pool, judge: Judge, claims: Scoped, cell_id: str, year: int
) -> Compliance:
    """Each rule's judgment of each period of `year`: passed, violated or not judged."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    async with pool.acquire() as conn:
        await visible_cell(conn, claims, cell_id)
        (facts,) = await repository.load_cells(conn, [cell_id], judge.meetings)
    pack, horizon = judge.pack, min(judge.horizon(), end)
    found = await asyncio.to_thread(judged_within, pack.rules, facts, horizon, start, end)
    return Compliance(cell_id, year, year_rows(pack.rules, facts, found, year, horizon))


async def tallied(
    conn: Connection, judge: Judge, cell_ids: Sequence[str], year: int, part: tallies.Part[T]
) -> list[T]:
    """`part` of the tallies of `year` of the registered cells among `cell_ids`, in that order
    (see `stored`)."""
    return [part.decode(raw) for raw in await stored(conn, judge, cell_ids, year, part)]


async def patterns(
    conn: Connection, judge: Judge, cell_ids: Sequence[str], year: int
) -> list[tuple[dict[str, RuleTally], int]]:
    """The rules' tallies of `year` of the registered cells among `cell_ids`: each pattern
    once, with how many cells share it. An org's cells mostly share a few, so most are never
    decoded."""
    shared = Counter(await stored(conn, judge, cell_ids, year, tallies.RULES))
    return [(tallies.RULES.decode(raw), cells) for raw, cells in shared.items()]


async def stored(
    conn: Connection, judge: Judge, cell_ids: Sequence[str], year: int, part: tallies.Part[T]
) -> list[bytes]:
    """`part` of the tallies of `year` of the registered cells among `cell_ids`, in that order,
    as stored: those made with the pack in force and today's horizon, the others made now and
    kept.

    Each missing chunk is made under its cells' locks, which the ingest that changes a cell's
    facts takes before dropping its tallies: a tally is never kept from facts already replaced.
    """
    pack, horizon = judge.pack, min(judge.horizon(), date(year + 1, 1, 1))
    found = await tallies.read(conn, cell_ids, year, pack.version, horizon, part)
    missing = [cell for cell in cell_ids if cell not in found]
    for offset in range(0, len(missing), CHUNK_CELLS):
        chunk = missing[offset : offset + CHUNK_CELLS]
        async with conn.transaction():
            await repository.lock_cells(conn, chunk)
            # Another report (or replica) may have made them while this one waited.
            made = await tallies.read(conn, chunk, year, pack.version, horizon, part)
            found.update(made)
            facts = await repository.load_cells(
                conn, [cell for cell in chunk if cell not in made], judge.meetings
            )
            # Judging a large org takes a while: off the event loop, which goes on serving.
            new = await asyncio.to_thread(_tally, pack, facts, year, horizon)
            await tallies.write(conn, new, pack.version, horizon)
        found.update((cell.cell_id, tallies.encode(cell, part)) for cell in new)
    return [found[cell] for cell in cell_ids if cell in found]


def _tally(pack: RulePack, cells: list[CellFacts], year: int, horizon: date) -> list[CellYear]:
    return [tally(pack, facts, year, horizon) for facts in cells]


async def org_view(pool: asyncpg.Pool, claims: Scoped, org_id: str) -> queries.OrgView:
    """An org in its tree, as far up as the caller reaches; 404 beyond their reach."""
    async with pool.acquire() as conn:
        visible = await org_visible(conn, "rules", claims, org_id)
        found = await queries.org_view(conn, org_id, None if claims.sees_all else claims.org)
    if not visible or found is None:
        raise NotFoundError(f"no org `{org_id}`")
    if not claims.sees_all and found.org_id == claims.org:
        found = msgspec.structs.replace(found, parent_id=None)  # above the caller's reach
    return found


async def top_orgs(pool: asyncpg.Pool, claims: Scoped) -> list[queries.OrgRef]:
    """Where the caller's tree starts: every root org for an admin, else their own org."""
    async with pool.acquire() as conn:
        if claims.sees_all:
            return await queries.root_orgs(conn)
        if claims.org is None:
            return []
        found = await queries.org_view(conn, claims.org, claims.org)
    if found is None:
        return []
    return [queries.OrgRef(org_id=found.org_id, name=found.name, cells=found.cells_under)]


async def _org_cells(conn: Connection, claims: Scoped, org_id: str) -> list[str]:
    """Ids of the cells under the org, however deep; 404 unless it is within reach."""
    visible = await org_visible(conn, "rules", claims, org_id)
    if not visible or not await queries.org_exists(conn, org_id):
        raise NotFoundError(f"no org `{org_id}`")
    return await queries.cells_under(conn, org_id)


async def org_summary(
    pool: asyncpg.Pool, judge: Judge, claims: Scoped, org_id: str, period: str
) -> list[RuleSummary]:
    """Per rule: cells under the org judged in `period`, cells violated, the share compliant."""
    year, within = parse_period(period)  # a malformed request is told so before anything is read
    async with pool.acquire() as conn:
        cell_ids = await _org_cells(conn, claims, org_id)
        cells = await patterns(conn, judge, cell_ids, year)
    (counts,) = count(cells, [within])
    return summarise(judge.pack, counts)


def summarise(pack: RulePack, counts: Mapping[str, RuleCount]) -> list[RuleSummary]:
    """The periodic report's rows from the counts of one period: per rule of `pack`, the
    cells judged, those violated (in any scope of the period), the share compliant."""
    rows = []
    for rule in pack.rules:
        found = counts.get(rule.id, RuleCount(0, 0))
        total, bad = found.judged, found.violated
        rows.append(
            RuleSummary(
                rule_id=rule.id,
                title_vi=rule.title.vi,
                title_en=rule.title.en,
                mode=rule.mode,
                cells_judged=total,
                cells_violated=bad,
                compliant_percent=round(100 * (total - bad) / total, 1) if total else None,
            )
        )
    return rows


class PeriodSummary(msgspec.Struct, kw_only=True):
    """One rule over one month, quarter or year: what the periodic report says of it."""

    period: str
    kind: PeriodKind
    cells_judged: int
    cells_violated: int
    compliant_percent: float | None


class RuleTrend(msgspec.Struct, kw_only=True):
    """One rule over a year: its report row for each month, then each quarter, then the
    year."""

    rule_id: str
    title_vi: str
    title_en: str
    mode: Mode
    periods: list[PeriodSummary]


class OrgTrend(msgspec.Struct, kw_only=True):
    """Per rule, the share of an org's cells compliant in each month and quarter of a year,
    and in the whole year."""

    org_id: str
    year: int
    rules: list[RuleTrend]


async def org_trend(
    pool: asyncpg.Pool, judge: Judge, claims: Scoped, org_id: str, year: int
) -> OrgTrend:
    """The periodic report (`org_summary`) of each month and quarter of `year` and of the
    year, rule by rule, each period's numbers those its own summary gives."""
    async with pool.acquire() as conn:
        cell_ids = await _org_cells(conn, claims, org_id)
        cells = await patterns(conn, judge, cell_ids, year)
    pack = judge.pack
    periods: dict[str, list[PeriodSummary]] = {rule.id: [] for rule in pack.rules}
    for (kind, number), counts in zip(PERIODS, count(cells, PERIODS), strict=True):
        key = period_of(kind, bounds(year, (kind, number))[0])
        for row in summarise(pack, counts):
            periods[row.rule_id].append(
                PeriodSummary(
                    period=label(kind, key),
                    kind=kind,
                    cells_judged=row.cells_judged,
                    cells_violated=row.cells_violated,
                    compliant_percent=row.compliant_percent,
                )
            )
    rules = [
        RuleTrend(
            rule_id=rule.id, title_vi=rule.title.vi, title_en=rule.title.en, mode=rule.mode,
            periods=periods[rule.id],
        )
        for rule in pack.rules
    ]  # fmt: skip
    return OrgTrend(org_id=org_id, year=year, rules=rules)


class CellMonths(msgspec.Struct, kw_only=True):
    """One cell's twelve months, January first."""

    cell_id: str
    months: list[Mark]


class OrgCalendar(msgspec.Struct, kw_only=True):
    """A monthly rule's verdict on every cell under an org for each month of a year, by cell
    id: the heat map of, say, regular meetings held and missed."""

    org_id: str
    year: int
    rule_id: str
    title_vi: str
    title_en: str
    cells: list[CellMonths]


async def org_calendar(
    pool: asyncpg.Pool,
    judge: Judge,
    claims: Scoped,
    org_id: str,
    year: int,
    rule_id: str,
    only: Collection[str] | None = None,
) -> OrgCalendar:
    """Each month of `year` for every cell under the org (those of `only` among them, if
    given), as the monthly rule `rule_id` judges it; 422 unless the pack in force has such a
    rule."""
    rule = judge.pack.by_id.get(rule_id)
    if rule is None or not is_monthly(rule):
        raise InvalidInputError(
            "`rule` must name a monthly rule of the pack in force", field="rule"
        )
    async with pool.acquire() as conn:
        cell_ids = await _org_cells(conn, claims, org_id)
        if only is not None:
            cell_ids = [cell for cell in cell_ids if cell in only]
        months = await tallied(conn, judge, cell_ids, year, tallies.MONTHS)
    rows = [
        CellMonths(cell_id=cell_id, months=cell[rule.id])
        for cell_id, cell in zip(cell_ids, months, strict=True)
    ]
    return OrgCalendar(
        org_id=org_id, year=year, rule_id=rule.id, title_vi=rule.title.vi,
        title_en=rule.title.en, cells=rows,
    )  # fmt: skip


async def cell_score(
    pool: asyncpg.Pool, judge: Judge, claims: Scoped, cell_id: str, year: int
) -> Score:
    """The cell's annual score and band from the judgments of `year` so far (`provisional`
    while the year runs, `not_judged` when nothing of it has been)."""
    async with pool.acquire() as conn:
        await visible_cell(conn, claims, cell_id)
        (score,) = await tallied(conn, judge, [cell_id], year, tallies.SCORE)
    return score


async def org_scores(
    pool: asyncpg.Pool, judge: Judge, claims: Scoped, org_id: str, year: int
) -> list[Score]:
    """The score and band for `year` of every registered cell under the org, by cell id: one
    tally of the whole org instead of one request per cell."""
    async with pool.acquire() as conn:
        cell_ids = await _org_cells(conn, claims, org_id)
        return await tallied(conn, judge, cell_ids, year, tallies.SCORE)


async def cell_record(pool: asyncpg.Pool, claims: Scoped, cell_id: str) -> queries.CellRecord:
    """One registered cell within the caller's reach, with its open findings count."""
    async with pool.acquire() as conn:
        await visible_cell(conn, claims, cell_id)
        found = await queries.cell_record(conn, cell_id)
    if found is None:
        raise NotFoundError(f"no cell `{cell_id}`")
    return found


class RuleBasis(msgspec.Struct):
    """The rule behind a finding, as in force now."""

    title_vi: str
    title_en: str
    basis: str
    weight: int
    basis_text: str | None = None


class FindingDetail(msgspec.Struct):
    """A finding with the rule it rests on and an account of the verdict as the facts stand
    now (`explanation`, None when the rule has left the pack), laid out as text in `text`."""

    record: FindingRecord
    rule: RuleBasis | None
    explanation: Explanation | None
    text: str


async def finding_detail(
    pool: asyncpg.Pool, judge: Judge, claims: Scoped, finding_id: int
) -> FindingDetail:
    """The finding, the rule and regulation it rests on, and how the verdict was reached."""
    async with pool.acquire() as conn:
        record = await queries.get_finding(conn, finding_id)
        # Out of reach reads as absent, so ids do not reveal other cells' findings.
        if record is None or not await cell_visible(conn, "rules", claims, record.finding.cell_id):
            raise NotFoundError(f"no finding {finding_id}")
        cells = await repository.load_cells(conn, [record.finding.cell_id], judge.meetings)
    rule = judge.pack.by_id.get(record.finding.rule_id)
    if rule is None or not cells:
        gone = (
            "Quy tắc không còn trong bộ quy tắc đang áp dụng.\n"
            "The rule is no longer in the pack in force.\n"
        )
        return FindingDetail(record, None, None, gone)
    scope = record.finding.scope
    now = next(
        (f for f in judge_cell([rule], cells[0], judge.horizon(), passes=True) if f.scope == scope),
        None,
    )
    account = explain(rule, cells[0], scope, now, NOT_JUDGED)
    spec = rule.rule
    basis = RuleBasis(rule.title.vi, rule.title.en, spec.basis, spec.weight, spec.basis_text)
    return FindingDetail(record, basis, account, render(account))
