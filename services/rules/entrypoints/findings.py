"""`/findings`: what the rules found, filterable and paginated, each with its explanation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import get
from litestar.params import FromQuery, QueryParameter

from services.contracts.findings import FindingStatus
from services.infra.auth.http import READERS, ClaimsDep, allow
from services.infra.params import NumberCursor, PathNumber, QueryId, QueryOrg
from services.infra.problems import problem_responses
from services.rules.adapters.queries import FindingFilter
from services.rules.entrypoints.deps import JudgeDep, Pool
from services.rules.service import compliance
from services.rules.service.compliance import FindingDetail, FindingPage

Limit = Annotated[int, QueryParameter(ge=1, le=1000, description="Page size")]


@get(
    "/findings",
    tags=["findings"],
    summary="List findings",
    guards=[allow(*READERS)],
    responses=problem_responses(422),
)
async def list_findings(
    pool: Pool,
    claims: ClaimsDep,
    cell_id: QueryId = None,
    org_id: QueryOrg = None,
    rule_id: QueryId = None,
    status: FromQuery[FindingStatus | None] = None,
    scope_filter: Annotated[
        str | None,
        QueryParameter(
            name="scope",
            pattern=r"^[A-Za-z0-9_/-]{1,200}$",
            description="e.g. 2024-03, meeting/m-1",
        ),
    ] = None,
    since: Annotated[
        datetime | None,
        QueryParameter(description="Changed at or after; RFC 3339 with offset, e.g. +07:00"),
    ] = None,
    after: NumberCursor = 0,
    limit: Limit = 100,
) -> FindingPage:
    """Findings of the cells the caller reaches, by id, narrowed by every filter given."""
    filters = FindingFilter(
        cell_id=cell_id,
        org_id=org_id,
        rule_id=rule_id,
        status=status,
        scope=scope_filter,
        since=since,
        after=after,
        limit=limit,
    )
    return await compliance.list_findings(pool, claims, filters)


@get(
    "/findings/{finding_id:int}",
    tags=["findings"],
    summary="One finding, explained",
    guards=[allow(*READERS)],
)
async def get_finding(
    pool: Pool, judge: JudgeDep, claims: ClaimsDep, finding_id: PathNumber
) -> FindingDetail:
    """The finding, the rule and regulation it rests on, and how the verdict was reached."""
    return await compliance.finding_detail(pool, judge, claims, finding_id)
