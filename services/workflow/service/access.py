"""Who is calling, and which cases they may read or move.

The caller is the verified bearer token (`services.infra.auth`): its subject acts, in the case
roles the token holds, within the org or cell it names; the findings policy acts as an admin.
A caller reaches the org tree (any depth) below their token's org, their own cell, or, as an
admin, everything. Reading outside one's reach answers 404, as if the case did not exist;
moving or opening a case outside it answers 403.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from services.contracts.roles import CASE_ROLES, Role
from services.infra.auth import Claims
from services.infra.auth.scope import org_visible
from services.infra.database import Connection
from services.infra.errors import ForbiddenError
from services.workflow.adapters import repository
from services.workflow.domain.commands import OpenCase
from services.workflow.domain.model import Case
from services.workflow.errors import CaseNotFoundError


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """The person (or policy) acting, the case roles they may act in, and their reach.

    A viewer holds no case role: they read within their org and fire nothing.
    """

    actor: str
    roles: tuple[Role, ...]
    org: str | None = None
    cell: str | None = None
    sees_all: bool = False  # admins (and the findings policy) reach every case

    @property
    def title(self) -> str:
        """The caller's case roles as words, for messages."""
        return " or ".join(self.roles) or "viewer"

    def acting_as(self, allowed: Iterable[Role]) -> Role | None:
        """The strongest of the caller's roles among `allowed`, or None."""
        permitted = set(allowed)
        return next((role for role in self.roles if role in permitted), None)


def caller_from_claims(claims: Claims) -> Caller:
    """The workflow's view of a verified token; when it holds several case roles, a trigger is
    fired in the strongest that may."""
    return Caller(
        actor=claims.sub,
        roles=tuple(role for role in CASE_ROLES if role in claims.roles),
        org=claims.org,
        cell=claims.cell,
        sees_all=claims.has(Role.admin),
    )


async def case_visible(conn: Connection, caller: Caller, case: Case) -> bool:
    """Whether the case's cell is the caller's, or its org is within the caller's org."""
    if caller.sees_all:
        return True
    if caller.cell is not None:
        return case.cell_id == caller.cell
    return case.org_id is not None and await org_visible(conn, "workflow", caller, case.org_id)


async def readable_case(conn: Connection, caller: Caller, case_id: str) -> Case:
    """The case the caller reads: 404 if there is none or it is out of reach."""
    case = await repository.get_case(conn, case_id)
    # Out of reach reads as absent: ids do not reveal other organisations' cases.
    if case is None or not await case_visible(conn, caller, case):
        raise CaseNotFoundError(f"no case {case_id}")
    return case


async def writable_case(conn: Connection, caller: Caller, case_id: str) -> Case:
    """The case the caller is about to move: 404 if there is none, 403 out of reach.

    For an org-scoped caller, the case and its place in the tree come in one round trip: this
    is on the path of every transition.
    """
    if caller.sees_all or caller.org is None:
        case = await repository.get_case(conn, case_id)
        if case is None:
            raise CaseNotFoundError(f"no case {case_id}")
        if not await case_visible(conn, caller, case):
            raise _outside()
        return case
    found = await repository.get_case_within(conn, case_id, caller.org)
    if found is None:
        raise CaseNotFoundError(f"no case {case_id}")
    case, within = found
    if not within:
        raise _outside()
    return case


async def require_can_open(conn: Connection, caller: Caller, command: OpenCase) -> None:
    """403 unless both the org named and the org the cell is registered under are reachable."""
    if caller.sees_all:
        return
    registered = await repository.cell_org(conn, command.cell_id)
    for org_id in {command.org_id, *([registered] if registered else [])}:
        if not await org_visible(conn, "workflow", caller, org_id):
            raise ForbiddenError(f"org `{org_id}` is outside your organisation")


async def require_org_visible(conn: Connection, caller: Caller, org_id: str) -> None:
    """404 unless the org is the caller's or below it."""
    if not await org_visible(conn, "workflow", caller, org_id):
        raise CaseNotFoundError(f"no org `{org_id}` within your reach")


def _outside() -> ForbiddenError:
    return ForbiddenError("this case is outside your organisation or cell")
