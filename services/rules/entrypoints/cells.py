"""`/cells` and `/orgs`: cells, their compliance and score, and an org's periodic summary."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from litestar import Response, get
from litestar.params import QueryParameter

from services.contracts.roles import Role
from services.infra.auth.http import READERS, ClaimsDep, allow
from services.infra.params import (
    IdCursor,
    PathId,
    QueryIds,
    QueryOrg,
    QueryYear,
    Year,
    id_list,
)
from services.infra.problems import problem_responses
from services.rules.adapters import queries
from services.rules.adapters.queries import CellRecord, OrgRef, OrgView, PendingCells
from services.rules.domain.score import Score
from services.rules.entrypoints.deps import JudgeDep, Pool
from services.rules.service import compliance
from services.rules.service.compliance import (
    CellPage,
    Compliance,
    OrgCalendar,
    OrgTrend,
    RuleSummary,
)


@get("/cells", tags=["cells"], summary="List registered cells", guards=[allow(*READERS)])
async def list_cells(
    pool: Pool,
    judge: JudgeDep,
    claims: ClaimsDep,
    org_id: QueryOrg = None,
    after: IdCursor = "",
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    year: QueryYear = None,
    cells: QueryIds = None,
) -> CellPage:
    """Cells the caller reaches (those named in `cells`, if given), by id, with their open
    findings count, their last regular meeting and, when `year` is given, their standing that
    year: score, band, and whether the score is final or provisional (`score`, as
    `/cells/{id}/score` gives it in full)."""
    only = id_list(cells)
    return await compliance.list_cells(pool, judge, claims, org_id, after, limit, year, only)


@get(
    "/cells/pending",
    tags=["cells"],
    summary="Cells waiting for a registration (admin)",
    guards=[allow(Role.admin)],
)
async def pending_cells(
    pool: Pool, limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1000
) -> PendingCells:
    """Cells that meetings name but that are not registered, with their meeting counts and
    first and last days (kept, judged once registered); and registered cells whose org is not
    registered (in no inspector's reach). At most `limit` of each, by cell id."""
    async with pool.acquire() as conn:
        return await queries.pending_cells(conn, limit)


@get("/cells/{cell_id:str}", tags=["cells"], summary="One cell", guards=[allow(*READERS)])
async def cell_record(pool: Pool, claims: ClaimsDep, cell_id: PathId) -> CellRecord:
    """The cell as registered, with its open findings count."""
    return await compliance.cell_record(pool, claims, cell_id)


@get(
    "/cells/{cell_id:str}/compliance",
    tags=["cells"],
    summary="Every rule and period of a year",
    guards=[allow(*READERS)],
)
async def cell_compliance(
    pool: Pool, judge: JudgeDep, claims: ClaimsDep, cell_id: PathId, year: Year
) -> Compliance:
    """Each rule's judgment of each period of `year` ended so far, passed or violated."""
    return await compliance.cell_compliance(pool, judge, claims, cell_id, year)


@get(
    "/cells/{cell_id:str}/score",
    tags=["cells"],
    summary="Annual score and band",
    guards=[allow(*READERS)],
)
async def cell_score(
    pool: Pool, judge: JudgeDep, claims: ClaimsDep, cell_id: PathId, year: Year
) -> Score:
    """100 minus the weights of the year's violations, floored at 0, banded by QĐ 366."""
    return await compliance.cell_score(pool, judge, claims, cell_id, year)


ORG_READERS = (Role.admin, Role.inspector, Role.viewer)


@get(
    "/orgs",
    tags=["orgs"],
    summary="Where the caller's org tree starts",
    guards=[allow(*ORG_READERS)],
)
async def top_orgs(pool: Pool, claims: ClaimsDep) -> list[OrgRef]:
    """Every root org for an admin; the caller's own org for an inspector or viewer."""
    return await compliance.top_orgs(pool, claims)


@get(
    "/orgs/{org_id:str}",
    tags=["orgs"],
    summary="An org in its tree: the path to it, its children, its cells",
    guards=[allow(*ORG_READERS)],
)
async def org_view(pool: Pool, claims: ClaimsDep, org_id: PathId) -> OrgView:
    """The org, the orgs above it up to the caller's own (their path), the orgs just below it,
    each with the registered cells under it, and its own cell counts."""
    return await compliance.org_view(pool, claims, org_id)


@get(
    "/orgs/{org_id:str}/scores",
    tags=["orgs"],
    summary="Every cell's annual score and band under an org",
    guards=[allow(*ORG_READERS)],
)
async def org_scores(
    pool: Pool, judge: JudgeDep, claims: ClaimsDep, org_id: PathId, year: Year
) -> list[Score]:
    """The year's score and band of each registered cell under the org, however deep, by id:
    what `/cells/{cell_id}/score` says of each, in one answer."""
    return await compliance.org_scores(pool, judge, claims, org_id, year)


MonthlyRule = Annotated[
    str,
    QueryParameter(
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="a rule of the pack in force that judges each month",
    ),
]


@get(
    "/orgs/{org_id:str}/calendar",
    tags=["orgs"],
    summary="A monthly rule's verdict on every cell under an org, month by month",
    guards=[allow(*ORG_READERS)],
    responses=problem_responses(422),
)
async def org_calendar(
    pool: Pool,
    judge: JudgeDep,
    claims: ClaimsDep,
    org_id: PathId,
    year: Year,
    rule: MonthlyRule = "regular-meeting-monthly",
    cells: QueryIds = None,
) -> OrgCalendar:
    """For each registered cell under the org (those named in `cells`, if given), by id, the
    twelve months of `year` as the monthly rule judges them: passed or violated, or why not
    judged (the month has not ended, the cell was not active all of it, the rule was not in
    force or does not apply)."""
    only = id_list(cells)
    return await compliance.org_calendar(pool, judge, claims, org_id, year, rule, only)


@get(
    "/orgs/{org_id:str}/trend",
    tags=["orgs"],
    summary="Per rule: cells judged, violated, % compliant in each month, quarter and the year",
    guards=[allow(*ORG_READERS)],
)
async def org_trend(
    pool: Pool, judge: JudgeDep, claims: ClaimsDep, org_id: PathId, year: Year
) -> OrgTrend:
    """The periodic report of each month, then each quarter, then the whole of `year`, rule
    by rule, from one judgment of the year: a judgment counts in the periods that wholly hold
    it (one spanning two months, a gap say, in neither month)."""
    return await compliance.org_trend(pool, judge, claims, org_id, year)


# The period's form is checked where it is parsed (422 naming it); here only its length.
Period = Annotated[str, QueryParameter(max_length=16, description="YYYY, YYYY-MM or YYYY-Qn")]
_CSV_HEADERS = (
    "Mã quy tắc (rule_id)",
    "Quy tắc (title_vi)",
    "Rule (title_en)",
    "Chế độ (mode)",
    "Số chi bộ được đánh giá (cells_judged)",
    "Số chi bộ vi phạm (cells_violated)",
    "Tỷ lệ đạt % (compliant_percent)",
)


@get(
    "/orgs/{org_id:str}/summary",
    tags=["orgs"],
    summary="Per rule: cells judged, violated, % compliant",
    guards=[allow(*ORG_READERS)],
    responses=problem_responses(422),
)
async def org_summary(
    pool: Pool, judge: JudgeDep, claims: ClaimsDep, org_id: PathId, period: Period
) -> list[RuleSummary]:
    """The periodic report to the standing committee: per rule, the cells judged in the
    period, those violated, and the share compliant."""
    return await compliance.org_summary(pool, judge, claims, org_id, period)


@get(
    "/orgs/{org_id:str}/summary.csv",
    tags=["orgs"],
    summary="The same report as a CSV file, for a spreadsheet",
    guards=[allow(Role.admin, Role.inspector, Role.viewer)],
    media_type="text/csv",
    responses=problem_responses(422),
)
async def org_summary_csv(
    pool: Pool, judge: JudgeDep, claims: ClaimsDep, org_id: PathId, period: Period
) -> Response[str]:
    """The periodic report as CSV, headed in Vietnamese with the English beside it."""
    rows = await compliance.org_summary(pool, judge, claims, org_id, period)
    # A byte-order mark so that spreadsheet programs read the Vietnamese text as UTF-8.
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(_CSV_HEADERS)
    writer.writerows([getattr(r, f) for f in RuleSummary.__struct_fields__] for r in rows)
    filename = f"chibo-{org_id}-{period}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv",  # Litestar adds the charset, UTF-8
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
