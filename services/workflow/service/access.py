"""Which cases a caller may read or move: the org tree (any depth) below their token's org,
their own cell, or everything for an admin.

Reading outside one's reach answers 404, as if the case did not exist; moving or opening a case
outside it answers 403.
"""

from __future__ import annotations

from typing import Any

from services.infra.auth.scope import org_visible, reach, subtree
from services.infra.database import Connection
from services.infra.errors import ForbiddenError
from services.workflow.adapters import repository
from services.workflow.domain.model import Case
from services.workflow.entrypoints.schemas import CaseCreate
from services.workflow.errors import CaseNotFoundError
from services.workflow.service.caller import Caller


async def case_visible(conn: Connection, caller: Caller, case: Case) -> bool:
    """Whether the case's cell is the caller's, or its org is within the caller's org."""
    if caller.sees_all:
        return True
    if caller.cell is not None:
        return case.cell_id == caller.cell
    return case.org_id is not None and await org_visible(conn, "workflow", caller, case.org_id)


async def require_writable(conn: Connection, caller: Caller, case: Case) -> None:
    """403 unless the caller reaches the case."""
    if not await case_visible(conn, caller, case):
        raise ForbiddenError("this case is outside your organisation or cell")


async def writable_case(conn: Connection, caller: Caller, case_id: str) -> Case:
    """The case the caller is about to move: 404 if there is none, 403 out of reach.

    For an org-scoped caller, the case and its place in the tree come in one round trip: this
    is on the path of every transition.
    """
    if caller.sees_all or caller.org is None:
        case = await repository.get_case(conn, case_id)
        if case is None:
            raise CaseNotFoundError(f"no case {case_id}")
        await require_writable(conn, caller, case)
        return case
    found = await repository.get_case_within(conn, case_id, caller.org)
    if found is None:
        raise CaseNotFoundError(f"no case {case_id}")
    case, within = found
    if not within:
        raise ForbiddenError("this case is outside your organisation or cell")
    return case


async def require_can_open(conn: Connection, caller: Caller, command: CaseCreate) -> None:
    """403 unless both the org named and the org the cell is registered under are reachable."""
    if caller.sees_all:
        return
    registered = await conn.fetchval(
        "select org_id from workflow.cells where cell_id = $1", command.cell_id
    )
    orgs = {command.org_id, *([registered] if registered else [])}
    for org_id in orgs:
        if not await org_visible(conn, "workflow", caller, org_id):
            raise ForbiddenError(f"org `{org_id}` is outside your organisation")


def reach_filter(caller: Caller, args: list[Any]) -> tuple[str, list[str]]:
    """A `with` clause and `where` conditions keeping only the cases the caller reaches."""
    within = reach(caller)
    conditions: list[str] = []
    cte = ""
    if within.org is not None:
        args.append(within.org)
        cte = f"with recursive {subtree('workflow', f'${len(args)}', 'reach')} "
        conditions.append("org_id in (select org_id from reach)")
    if within.cell is not None:
        args.append(within.cell)
        conditions.append(f"cell_id = ${len(args)}")
    return cte, conditions
