"""What the workflow API's handlers receive: the service layer, and who is calling."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from services.infra.auth import Claims
from services.infra.lifespan import provide
from services.workflow.service.access import Caller, caller_from_claims
from services.workflow.service.handlers import Service


def caller_from_token(request: Request[Any, Any, Any]) -> Caller:
    """The caller named by the request's verified token (the auth middleware checked it): the
    one place the workflow API learns who acts, in which roles, within which org or cell."""
    claims: Claims = request.user
    return caller_from_claims(claims)


DEPENDENCIES = {
    **provide("service"),
    "caller": Provide(caller_from_token, sync_to_thread=False),
}

# What handlers declare: each parameter named as its dependency.
ServiceDep = NamedDependency[Service]
CallerDep = NamedDependency[Caller]
