"""Signing in: a session is the person's own token, kept in an HttpOnly cookie; a one-time
code stands in for the token in a link, so that no token ever travels in a URL.

`chibo up` (or a deployment's sign-on portal) swaps a token for a code with
`POST /signin/codes`; the link `/signin/<code>` is good once, for a few minutes, and signs the
browser in with that token. Codes live in the memory of the replica that issued them: a
deployment with several replicas posts the token to `POST /signin` instead.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import msgspec

from services.infra.auth import AuthSettings, Claims
from services.infra.auth.tokens import verify
from services.infra.clock import Clock
from services.infra.errors import UnauthorizedError
from services.web.errors import SignInNeededError

MAX_CODES = 10_000
"""The most codes waiting at once; the oldest give way to new ones."""


class Person(msgspec.Struct, frozen=True):
    """Who is signed in: the token the APIs are called with, and what it says."""

    token: str
    claims: Claims


class IssuedCode(msgspec.Struct, frozen=True):
    """A one-time sign-in code and when it stops working."""

    code: str
    expires_at: datetime


def person_of(auth: AuthSettings, token: str | None) -> Person:
    """The person a token signs in, or `SignInNeededError` if it is missing or not valid."""
    if not token:
        raise SignInNeededError("no session")
    try:
        return Person(token, verify(auth, token))
    except UnauthorizedError:
        raise SignInNeededError("the session's token is not valid any more") from None


class CodeBook:
    """One-time codes waiting to be exchanged for the tokens they stand for."""

    def __init__(self, auth: AuthSettings, clock: Clock, lifetime_seconds: int) -> None:
        self._auth, self._clock = auth, clock
        self._lifetime = timedelta(seconds=lifetime_seconds)
        self._waiting: dict[str, tuple[str, datetime]] = {}

    def issue(self, token: str) -> IssuedCode:
        """A new code for a valid token (refused if the token does not verify)."""
        person_of(self._auth, token)
        now = self._clock.now()
        self._forget_expired(now)
        while len(self._waiting) >= MAX_CODES:
            del self._waiting[next(iter(self._waiting))]
        code = secrets.token_urlsafe(24)
        expires = now + self._lifetime
        self._waiting[code] = (token, expires)
        return IssuedCode(code, expires)

    def redeem(self, code: str) -> Person:
        """The person a code signs in; the code is spent either way."""
        token, expires = self._waiting.pop(code, ("", self._clock.now()))
        if not token or expires <= self._clock.now():
            raise SignInNeededError("the sign-in code was used or has expired")
        return person_of(self._auth, token)

    def _forget_expired(self, now: datetime) -> None:
        for code in [c for c, (_, expires) in self._waiting.items() if expires <= now]:
            del self._waiting[code]
