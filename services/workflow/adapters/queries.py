"""Read-side queries of the workflow API: a case and its trail, lists, an organisation's summary."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.workflow.adapters import repository
from services.workflow.entrypoints.schemas import CaseDetail, CasePage, CaseSummary
from services.workflow.errors import CaseNotFoundError
from services.workflow.service import access
from services.workflow.service.caller import Caller
from services.workflow.service.registry import Registry

MAX_PAGE = 200


async def case_detail(
    pool: asyncpg.Pool, registry: Registry, case_id: str, caller: Caller
) -> CaseDetail:
    """A case, its audit trail, and the triggers the caller's roles may fire from its state."""
    async with pool.acquire() as conn:
        case = await repository.get_case(conn, case_id)
        # Out of reach reads as absent: ids do not reveal other organisations' cases.
        if case is None or not await access.case_visible(conn, caller, case):
            raise CaseNotFoundError(f"no case {case_id}")
        workflow = await registry.get(conn, case.definition, case.definition_version)
        trail = await repository.history(conn, case_id)
    return CaseDetail(
        case=case, history=trail, available_triggers=workflow.available(case.state, caller.roles)
    )


async def list_cases(
    pool: asyncpg.Pool,
    caller: Caller,
    *,
    cell_id: str | None,
    org_id: str | None,
    state: str | None,
    overdue: bool | None,
    limit: int,
    offset: int,
) -> CasePage:
    """Cases the caller reaches matching every filter given, newest first, a page at a time."""
    where, args = _filters(cell_id=cell_id, org_id=org_id, state=state)
    if overdue is not None:
        where.append(("" if overdue else "not ") + "(inspection_overdue or remediation_overdue)")
    cte, within = access.reach_filter(caller, args)
    where += within
    clause = " where " + " and ".join(where) if where else ""
    async with pool.acquire() as conn:
        total = await conn.fetchval(f"{cte}select count(*) from workflow.cases{clause}", *args)
        rows = await conn.fetch(
            f"{cte}select id, {', '.join(repository.CASE_FIELDS)} from workflow.cases{clause}"
            f" order by created_at desc, id limit {limit} offset {offset}",
            *args,
        )
    items = [repository.to_case(r) for r in rows]
    more = offset + len(items) < total
    return CasePage(items=items, total=total, next_offset=offset + len(items) if more else None)


async def summary(pool: asyncpg.Pool, org_id: str, year: int) -> CaseSummary:
    """An organisation's cases of a year by state, and how many deadlines passed."""
    rows = await pool.fetch(
        "select state, count(*) as n, count(*) filter (where inspection_overdue) as late_i,"
        " count(*) filter (where remediation_overdue) as late_r"
        " from workflow.cases where org_id = $1 and year = $2 group by state order by state",
        org_id,
        year,
    )
    return CaseSummary(
        org_id=org_id,
        year=year,
        by_state={r["state"]: r["n"] for r in rows},
        overdue_inspections=sum(r["late_i"] for r in rows),
        overdue_remediations=sum(r["late_r"] for r in rows),
    )


def _filters(**given: str | None) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    for column, value in given.items():
        if value is not None:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    return where, args
