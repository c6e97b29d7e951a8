"""The read side of the workflow service: cases as the API lists them, an organisation's summary.

Lists take the caller's reach (`services.infra.auth.scope.Reach`) and show nothing beyond it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from services.infra.auth.scope import Reach, subtree
from services.infra.database import Connection
from services.workflow.adapters.repository import CASE_COLUMNS, to_case
from services.workflow.domain.model import Case

MAX_PAGE = 200


class CasePage(msgspec.Struct, frozen=True, kw_only=True):
    """One page of cases, newest first; ask again with `offset=next_offset` for more."""

    items: list[Case]
    total: int
    next_offset: int | None


class CaseSummary(msgspec.Struct, frozen=True, kw_only=True):
    """An organisation's cases in a year, for the standing committee's report."""

    org_id: str
    year: int
    by_state: dict[str, int]
    overdue_inspections: int
    overdue_remediations: int


class CaseFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which cases to list; every field given narrows the list."""

    cell_id: str | None = None
    # The cases of any of these cells.
    cells: frozenset[str] | None = None
    org_id: str | None = None
    state: str | None = None
    year: int | None = None
    overdue: bool | None = None
    # Without a final state (`final` names them) when true; only in one when false.
    open: bool | None = None
    final: tuple[str, ...] = ()
    # Opened or accepted into the plan by this subject, or naming them on the team.
    mine: str | None = None
    limit: int = 50
    offset: int = 0


async def list_cases(conn: Connection, reach: Reach, f: CaseFilter) -> CasePage:
    """Cases within `reach` matching every filter given, newest first, a page at a time."""
    where: list[str] = []
    args: list[Any] = []
    equal = (("cell_id", f.cell_id), ("state", f.state), ("year", f.year))
    for column, value in equal:
        if value is not None:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    if f.cells is not None:
        args.append(sorted(f.cells))
        where.append(f"cell_id = any(${len(args)}::text[])")
    if f.overdue is not None:
        where.append(("" if f.overdue else "not ") + "(inspection_overdue or remediation_overdue)")
    if f.open is not None:
        args.append(list(f.final))
        where.append(f"state {'<> all' if f.open else '= any'}(${len(args)})")
    if f.mine is not None:
        args.append(f.mine)
        n = len(args)
        where.append(
            f"(exists (select 1 from workflow.audit a where a.case_id = cases.id"
            f" and a.actor = ${n} and (a.from_state is null or a.trigger = 'accept'))"
            f" or team @> jsonb_build_array(jsonb_build_object('name', ${n}::text)))"
        )
    ctes = []
    if f.org_id is not None:  # the org's own cases and those of every org below it
        args.append(f.org_id)
        ctes.append(subtree("workflow", f"${len(args)}", "asked"))
        where.append("org_id in (select org_id from asked)")
    if reach.org is not None:
        args.append(reach.org)
        ctes.append(subtree("workflow", f"${len(args)}", "reach"))
        where.append("org_id in (select org_id from reach)")
    cte = f"with recursive {', '.join(ctes)} " if ctes else ""
    if reach.cell is not None:
        args.append(reach.cell)
        where.append(f"cell_id = ${len(args)}")
    clause = " where " + " and ".join(where) if where else ""
    total = await conn.fetchval(f"{cte}select count(*) from workflow.cases{clause}", *args)
    rows = await conn.fetch(
        f"{cte}select id, {', '.join(CASE_COLUMNS)} from workflow.cases{clause}"
        f" order by created_at desc, id limit {f.limit} offset {f.offset}",
        *args,
    )
    items = [to_case(r) for r in rows]
    more = f.offset + len(items) < total
    return CasePage(items=items, total=total, next_offset=f.offset + len(items) if more else None)


async def summary(conn: Connection, org_id: str, year: int) -> CaseSummary:
    """An organisation's cases of a year by state, and how many deadlines passed."""
    rows = await conn.fetch(
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
