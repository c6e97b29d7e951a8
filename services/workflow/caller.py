"""Who is calling: the one place the API learns the caller's identity and role.

Until bearer tokens land (issue 6), the caller names themselves in two request headers,
`X-Chibo-Actor` and `X-Chibo-Role`. Every handler takes a `Caller` through this dependency only,
so swapping the headers for verified JWT claims changes this file and nothing else.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import HeaderParameter

from services.infra.errors import UnauthorizedError
from services.workflow.definition import Role

Actor = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$")]


class Caller(msgspec.Struct, frozen=True):
    """The person (or policy) acting, and the role they act in."""

    actor: Actor
    role: Role


def caller_from_headers(
    actor: Annotated[
        str | None, HeaderParameter(name="X-Chibo-Actor", description="who acts (until JWT)")
    ] = None,
    role: Annotated[
        str | None,
        HeaderParameter(
            name="X-Chibo-Role", description="inspector, secretary or admin (until JWT)"
        ),
    ] = None,
) -> Caller:
    """The caller named by the request headers, or 401 when they are missing or malformed."""
    if not actor or not role:
        raise UnauthorizedError("say who you are: X-Chibo-Actor and X-Chibo-Role headers")
    try:
        return msgspec.convert({"actor": actor, "role": role}, Caller)
    except msgspec.ValidationError as exc:
        header = "X-Chibo-Role" if "$.role" in str(exc) else "X-Chibo-Actor"
        raise UnauthorizedError(f"{header}: {str(exc).split(' - at ')[0]}") from None
