"""What a Chibo token says: who, in which roles, for which organisation or cell, until when."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Self

import msgspec
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token

from services.contracts.events import Identifier
from services.contracts.roles import Role
from services.infra.clock import Clock

Subject = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$")]
# The longest token accepted: a Chibo token is some 400 characters; a longer one is refused
# before its signature is computed.
MAX_TOKEN_CHARACTERS = 4096
# HS256 with a shorter key is guessable offline from one token (and PyJWT warns about it).
MIN_KEY_LENGTH = 32


# Which scope each role's token must name: an org (any depth below it), a cell, or none.
ORG_SCOPED = frozenset({Role.inspector, Role.viewer})
CELL_SCOPED = frozenset({Role.secretary})


class AuthSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Token settings both services share, from `CHIBO_AUTH_*` (the key must be the same)."""

    key: Annotated[str, msgspec.Meta(min_length=MIN_KEY_LENGTH)]
    issuer: str = "chibo"
    audience: str = "chibo"
    # Lifetime of a minted token when `--ttl` is not given.
    ttl_seconds: Annotated[int, msgspec.Meta(ge=60, le=366 * 86_400)] = 8 * 3600
    # The longest a token may live (`exp` - `iat`): a longer one is refused, minted or seen.
    max_ttl_seconds: Annotated[int, msgspec.Meta(ge=60, le=366 * 86_400)] = 31 * 86_400

    def __post_init__(self) -> None:
        if self.ttl_seconds > self.max_ttl_seconds:
            raise ValueError("`ttl_seconds` must not exceed `max_ttl_seconds`")


class Claims(msgspec.Struct, kw_only=True, frozen=True):
    """A verified token: the caller's identity, roles and scope.

    An inspector's or viewer's token names an `org` and reaches every cell below it, however
    deep; a secretary's names a `cell`; admin, source and rule_author need neither.
    """

    sub: Subject
    roles: Annotated[list[Role], msgspec.Meta(min_length=1, max_length=len(Role))]
    org: Identifier | None = None
    cell: Identifier | None = None
    exp: datetime
    iat: datetime
    iss: str
    aud: str

    def __post_init__(self) -> None:
        if self.org is not None and self.cell is not None:
            raise ValueError("a token names an org or a cell, not both")
        for role in self.roles:
            if role in ORG_SCOPED and self.org is None:
                raise ValueError(f"a token of role {role} must name an org (--org)")
            if role in CELL_SCOPED and self.cell is None:
                raise ValueError(f"a token of role {role} must name a cell (--cell)")

    def has(self, *roles: Role) -> bool:
        """Whether the token holds any of `roles`."""
        return any(role in self.roles for role in roles)

    @property
    def sees_all(self) -> bool:
        """Admins see every organisation and cell."""
        return Role.admin in self.roles


@dataclasses.dataclass
class ChiboToken(Token):
    """The JWT as Litestar's middleware decodes it: the registered claims plus Chibo's own."""

    roles: list[str] = dataclasses.field(default_factory=list)
    org: str | None = None
    cell: str | None = None


class VerifiedTokens:
    """Tokens already verified under one app's settings, the most recent `kept` of them.

    A client sends the same token with every request until it expires; checking the HMAC and
    parsing the claims again each time was a fifth of a workflow transition's CPU. So a token's
    signature and claims are checked the first time it is seen, and its expiry, against the
    app's clock, at every use. Entries serve only the verification they were made under: the
    first one asked with this object's secret, issuer and audience binds it (algorithm and
    required claims included), and a decode asked under any other is checked in full.
    """

    def __init__(self, settings: AuthSettings, clock: Clock, kept: int = 10_000) -> None:
        self._settings, self._clock, self._kept = settings, clock, kept
        self._tokens: dict[str, ChiboToken] = {}  # oldest first
        self._bound: tuple[object, ...] | None = None
        self.token_class = self._token_class()
        """A `ChiboToken` class whose `decode` goes through this object, for the middleware."""

    def __len__(self) -> int:
        return len(self._tokens)

    def remembered(self) -> list[str]:
        """The encoded tokens remembered, oldest first."""
        return list(self._tokens)

    def _serves(self, verification: tuple[object, ...]) -> bool:
        """Whether a decode asked with these arguments may be answered from memory."""
        if self._bound is None:
            settings = self._settings
            secret, _algorithm, audience, issuer = verification[:4]
            ours = (secret, audience, issuer) == (
                settings.key, (settings.audience,), (settings.issuer,)
            )  # fmt: skip
            if ours:
                self._bound = verification
        return verification == self._bound

    def _token_class(self) -> type[ChiboToken]:
        verified = self

        @dataclasses.dataclass
        class RememberedToken(ChiboToken):
            @classmethod
            def decode(
                cls,
                encoded_token: str,
                secret: str,
                algorithm: str,
                audience: str | Sequence[str] | None = None,
                issuer: str | Sequence[str] | None = None,
                require_claims: Sequence[str] | None = None,
                verify_exp: bool = True,
                verify_nbf: bool = True,
                strict_audience: bool = False,
            ) -> Self:
                if len(encoded_token) > MAX_TOKEN_CHARACTERS:  # no HMAC over megabytes
                    raise NotAuthorizedException("Invalid token")
                check = functools.partial(
                    super().decode,
                    encoded_token, secret, algorithm, audience, issuer, require_claims,
                    verify_exp, verify_nbf, strict_audience,
                )  # fmt: skip
                verification = (
                    secret, algorithm, _frozen(audience), _frozen(issuer),
                    tuple(require_claims or ()), verify_exp, verify_nbf, strict_audience,
                )  # fmt: skip
                if not verify_exp or not verified._serves(verification):
                    return check()
                return verified._remembered(encoded_token, check)  # type: ignore[return-value]

        return RememberedToken

    def _remembered(self, encoded: str, check: Callable[[], ChiboToken]) -> ChiboToken:
        token = self._tokens.get(encoded)
        if token is None:
            token = check()
            if len(self._tokens) >= self._kept:
                del self._tokens[next(iter(self._tokens))]  # the oldest entry
            self._tokens[encoded] = token
        if token.exp <= self._clock.now():
            raise NotAuthorizedException("Invalid token")
        # The same instance serves every request bearing this token: nothing mutates it.
        return token


def _frozen(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    return None if value is None else (value,) if isinstance(value, str) else tuple(value)
