"""Tokens in front of a Litestar app: the middleware, role guards, and the caller as a dependency.

Every route needs a bearer token except the ones marked `PUBLIC` (health, readiness, metrics)
and the API docs under `/schema`. A missing, expired, tampered or foreign token answers 401
with `WWW-Authenticate: Bearer`; a role that may never use a route answers 403 (its guard).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import JWTAuth
from litestar.types import Guard

from services.contracts.roles import Role
from services.infra.auth.claims import AuthSettings, ChiboToken, Claims, VerifiedTokens
from services.infra.auth.tokens import ALGORITHM, REQUIRED_CLAIMS, claims_of
from services.infra.clock import Clock
from services.infra.errors import ForbiddenError

# Route option that lets a handler answer without a token (see the module docstring).
PUBLIC = {"exclude_from_auth": True}
# The OpenAPI document and its viewers; anchored so no API path can slip through.
DOCS_PATTERN = r"^/schema(/|$)"


def jwt_auth(settings: AuthSettings, clock: Clock) -> JWTAuth[Claims, ChiboToken]:
    """Litestar's JWT middleware configured with Chibo's key, issuer, audience and claims; the
    tokens it has verified are remembered for this app alone, their expiry told by `clock`."""

    # A coroutine: Litestar would run a plain function in a worker thread, once per request.
    async def retrieve(token: ChiboToken, connection: ASGIConnection[Any, Any, Any, Any]) -> Claims:
        return claims_of(token, settings)

    return JWTAuth[Claims, ChiboToken](
        token_secret=settings.key,
        algorithm=ALGORITHM,
        retrieve_user_handler=retrieve,
        token_cls=VerifiedTokens(settings, clock).token_class,
        accepted_issuers=[settings.issuer],
        accepted_audiences=[settings.audience],
        require_claims=list(REQUIRED_CLAIMS),
        exclude=[DOCS_PATTERN],
        default_token_expiration=timedelta(seconds=settings.ttl_seconds),
        description="A Chibo token (`chibo token --role ROLE ...`).",
    )


def allow(*roles: Role) -> Guard:
    """A guard that lets only callers holding one of `roles` through (403 for the others)."""
    names = ", ".join(roles)

    # A coroutine, for the same reason as `retrieve` above.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        claims: Claims = connection.user
        if not claims.has(*roles):
            raise ForbiddenError(f"this needs one of the roles: {names}")

    return guard


def _claims(request: Request[Any, Any, Any]) -> Claims:
    claims: Claims = request.user
    return claims


# What handlers declare to learn who calls: `claims: ClaimsDep`, provided by `CLAIMS`.
CLAIMS = {"claims": Provide(_claims, sync_to_thread=False)}
ClaimsDep = NamedDependency[Claims]

# Role sets the two services share.
READERS = (Role.admin, Role.inspector, Role.viewer, Role.secretary)
EVERYONE_BUT_SOURCES = (*READERS, Role.rule_author)
