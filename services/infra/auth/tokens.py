"""Minting and verifying Chibo tokens with Litestar's JWT support (HS256, shared key)."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import msgspec
from litestar.exceptions import ImproperlyConfiguredException, NotAuthorizedException

from services.contracts.roles import Role
from services.infra.auth.claims import AuthSettings, ChiboToken, Claims, VerifiedTokens
from services.infra.errors import UnauthorizedError

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "exp", "iat", "iss", "aud", "roles")
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


class TokenRequestError(ValueError):
    """A token was asked for with a role and scope that do not fit together."""


def parse_ttl(text: str) -> timedelta:
    """`90s`, `30m`, `8h` or `7d` as a duration."""
    found = _DURATION.match(text.strip())
    if not found or int(found[1]) == 0:
        raise TokenRequestError(f"`{text}` is not a duration like 30m, 8h or 7d")
    return timedelta(seconds=int(found[1]) * _UNIT_SECONDS[found[2]])


def mint(
    settings: AuthSettings,
    role: Role,
    *,
    sub: str,
    org: str | None = None,
    cell: str | None = None,
    ttl: timedelta | None = None,
) -> str:
    """A signed token for one role; refuses a scope the role cannot have (or lacks)."""
    now = datetime.now(UTC).replace(microsecond=0)
    lifetime = ttl if ttl is not None else timedelta(seconds=settings.ttl_seconds)
    if lifetime > timedelta(seconds=settings.max_ttl_seconds):
        raise TokenRequestError(
            f"a token may live at most {settings.max_ttl_seconds // 86_400} days"
            " (CHIBO_AUTH_MAX_TTL_SECONDS)"
        )
    try:
        # Validate exactly as a verifier will, so no token is minted that would be refused.
        claims = msgspec.convert(
            {
                "sub": sub,
                "roles": [role],
                "org": org,
                "cell": cell,
                "exp": now + lifetime,
                "iat": now,
                "iss": settings.issuer,
                "aud": settings.audience,
            },
            Claims,
        )
    except msgspec.ValidationError as exc:
        raise TokenRequestError(str(exc)) from None
    fields = msgspec.structs.asdict(claims) | {"roles": [str(r) for r in claims.roles]}
    return ChiboToken(**fields).encode(settings.key, ALGORITHM)


def claims_of(token: ChiboToken, settings: AuthSettings) -> Claims:
    """The typed claims of a decoded token; 401 when they break Chibo's rules, a lifetime
    longer than the settings allow among them."""
    fields = {f.name: getattr(token, f.name) for f in dataclasses.fields(token)}
    fields.pop("extras", None)
    fields.pop("jti", None)
    try:
        claims = msgspec.convert(fields, Claims)
    except msgspec.ValidationError:
        # The reason stays here: telling a forger which claim failed only helps them.
        raise UnauthorizedError("invalid token") from None
    if claims.exp - claims.iat > timedelta(seconds=settings.max_ttl_seconds):
        raise UnauthorizedError("invalid token")
    return claims


def verify(
    settings: AuthSettings, encoded: str, remembered: VerifiedTokens | None = None
) -> Claims:
    """The claims of a token signed with the configured key, for this issuer and audience
    (remembered in `remembered` if given, as the services' middleware remembers them)."""
    kind = ChiboToken if remembered is None else remembered.token_class
    try:
        token = kind.decode(
            encoded,
            settings.key,
            ALGORITHM,
            audience=[settings.audience],
            issuer=[settings.issuer],
            require_claims=REQUIRED_CLAIMS,
        )
    except (NotAuthorizedException, ImproperlyConfiguredException):
        raise UnauthorizedError("invalid token") from None
    return claims_of(token, settings)
