"""Who is calling: the one place the workflow API learns the caller's identity, roles and scope.

The caller is the verified bearer token (services.infra.auth): its subject acts, in the workflow
roles the token holds, within the org or cell it names. Every handler takes a `Caller` through
this one dependency.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from litestar import Request

from services.infra.auth import Claims
from services.infra.auth import Role as TokenRole
from services.workflow.domain.definition import Role

# Strongest first: when a token holds several, a trigger is fired in the first that may.
_WORKFLOW_ROLES = (Role.admin, Role.inspector, Role.secretary)


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """The person (or policy) acting, the workflow roles they may act in, and their reach.

    A viewer holds no workflow role: they read within their org and fire nothing.
    """

    actor: str
    roles: tuple[Role, ...]
    org: str | None = None
    cell: str | None = None
    everywhere: bool = False

    @property
    def sees_all(self) -> bool:
        """Admins (and the findings policy) reach every case."""
        return self.everywhere

    @property
    def title(self) -> str:
        """The caller's workflow roles as words, for messages."""
        return " or ".join(self.roles) or "viewer"

    def acting_as(self, allowed: Iterable[Role]) -> Role | None:
        """The strongest of the caller's roles among `allowed`, or None."""
        permitted = set(allowed)
        return next((role for role in self.roles if role in permitted), None)


def caller_from_claims(claims: Claims) -> Caller:
    """The workflow's view of a verified token."""
    held = {str(role) for role in claims.roles}
    return Caller(
        actor=claims.sub,
        roles=tuple(role for role in _WORKFLOW_ROLES if str(role) in held),
        org=claims.org,
        cell=claims.cell,
        everywhere=claims.has(TokenRole.admin),
    )


def caller_from_token(request: Request[Any, Any, Any]) -> Caller:
    """The caller named by the request's verified token (the auth middleware checked it)."""
    claims: Claims = request.user
    return caller_from_claims(claims)
