"""Minting and verifying tokens: round trips, refusals, and the `chibo token` command."""

from __future__ import annotations

import base64
import inspect
import json
from datetime import UTC, datetime, timedelta

import jwt
import msgspec
import pytest

from services.cli import main
from services.contracts.roles import Role
from services.infra.auth import AuthSettings
from services.infra.auth.claims import VerifiedTokens
from services.infra.auth.http import allow, jwt_auth
from services.infra.auth.tokens import TokenRequestError, mint, parse_ttl, verify
from services.infra.clock import SystemClock
from services.infra.errors import StartupError, UnauthorizedError
from services.infra.settings import from_env
from tests.clock import ManualClock

SETTINGS = AuthSettings(key="unit-test-key-0123456789abcdef0123456789")


def test_a_minted_token_verifies_to_its_claims() -> None:
    token = mint(SETTINGS, Role.inspector, sub="ubkt-1", org="xa-a", ttl=timedelta(hours=2))
    claims = verify(SETTINGS, token)
    assert (claims.sub, claims.roles, claims.org, claims.cell) == (
        "ubkt-1", [Role.inspector], "xa-a", None,
    )  # fmt: skip
    assert claims.exp - claims.iat == timedelta(hours=2)
    assert (claims.iss, claims.aud) == ("chibo", "chibo")


def test_an_expired_token_is_refused() -> None:
    now = datetime.now(UTC)
    claims = {"sub": "a", "roles": ["admin"], "iss": "chibo", "aud": "chibo",
              "iat": now - timedelta(hours=2), "exp": now - timedelta(seconds=1)}  # fmt: skip
    with pytest.raises(UnauthorizedError):
        verify(SETTINGS, jwt.encode(claims, SETTINGS.key, algorithm="HS256"))


def test_a_tampered_token_is_refused() -> None:
    header, payload, signature = mint(SETTINGS, Role.secretary, sub="bt", cell="cb-1").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(UnauthorizedError):
        verify(SETTINGS, f"{header}.{forged}.{signature}")


def test_a_token_of_another_key_issuer_or_audience_is_refused() -> None:
    token = mint(SETTINGS, Role.admin, sub="a")
    remembered = VerifiedTokens(SETTINGS, SystemClock())
    assert verify(SETTINGS, token, remembered).sub == "a"  # remembered, under SETTINGS only
    for other in (
        msgspec.structs.replace(SETTINGS, key="another-key-0123456789abcdef012345678"),
        msgspec.structs.replace(SETTINGS, issuer="elsewhere"),
        msgspec.structs.replace(SETTINGS, audience="elsewhere"),
    ):
        with pytest.raises(UnauthorizedError):
            verify(other, token, remembered)


def test_a_token_without_its_scope_is_refused_when_verified() -> None:
    now = datetime.now(UTC)
    claims = {"sub": "a", "roles": ["inspector"], "iss": "chibo", "aud": "chibo",
              "iat": now, "exp": now + timedelta(hours=1)}  # fmt: skip
    with pytest.raises(UnauthorizedError):
        verify(SETTINGS, jwt.encode(claims, SETTINGS.key, algorithm="HS256"))


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (Role.inspector, {}),
        (Role.viewer, {"cell": "cb-1"}),
        (Role.secretary, {"org": "xa-a"}),
        (Role.admin, {"org": "xa-a", "cell": "cb-1"}),
    ],
)
def test_a_role_is_minted_only_with_the_scope_it_needs(role: Role, scope: dict[str, str]) -> None:
    with pytest.raises(TokenRequestError):
        mint(SETTINGS, role, sub="x", **scope)


def test_lifetimes_read_as_durations() -> None:
    assert parse_ttl("8h") == timedelta(hours=8)
    assert parse_ttl("30m") == timedelta(minutes=30)
    assert parse_ttl("7d") == timedelta(days=7)
    for bad in ("8", "h", "0h", "-1h", "8 hours"):
        with pytest.raises(TokenRequestError):
            parse_ttl(bad)


def test_a_short_key_stops_the_start() -> None:
    with pytest.raises(StartupError, match="CHIBO_AUTH_KEY"):
        from_env(AuthSettings, "CHIBO_AUTH_", {"CHIBO_AUTH_KEY": "short"})


def test_chibo_token_mints_a_token_the_services_accept(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHIBO_AUTH_KEY", SETTINGS.key)
    status = main(["token", "--role", "secretary", "--cell", "cb-9", "--ttl", "90m", "--sub", "bt"])
    assert status == 0
    claims = verify(SETTINGS, capsys.readouterr().out.strip())
    assert (claims.sub, claims.roles, claims.cell) == ("bt", [Role.secretary], "cb-9")
    assert claims.exp - claims.iat == timedelta(minutes=90)
    assert main(["token", "--role", "inspector"]) == 2
    assert "must name an org" in capsys.readouterr().err


def test_a_remembered_token_is_still_refused_once_it_expires() -> None:
    clock = ManualClock(datetime.now(UTC))
    remembered = VerifiedTokens(SETTINGS, clock)
    token = mint(SETTINGS, Role.admin, sub="a", ttl=timedelta(minutes=5))
    assert verify(SETTINGS, token, remembered).sub == "a"  # verified once, and remembered
    assert verify(SETTINGS, token, remembered).sub == "a"
    assert remembered.remembered() == [token]
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(UnauthorizedError):
        verify(SETTINGS, token, remembered)


def test_the_remembered_tokens_are_bounded() -> None:
    remembered = VerifiedTokens(SETTINGS, SystemClock(), kept=3)
    tokens = [mint(SETTINGS, Role.secretary, sub=f"bt-{n}", cell=f"cb-{n}") for n in range(5)]
    for token in tokens:
        verify(SETTINGS, token, remembered)
    assert remembered.remembered() == tokens[2:]  # the newest kept


def test_two_apps_remember_tokens_apart() -> None:
    # One app's cache is its own: nothing another app (or another key) verified is in it.
    token = mint(SETTINGS, Role.admin, sub="a")
    first, second = VerifiedTokens(SETTINGS, SystemClock()), VerifiedTokens(SETTINGS, SystemClock())
    verify(SETTINGS, token, first)
    assert (len(first), len(second)) == (1, 0)


def test_guards_and_the_token_check_run_on_the_event_loop() -> None:
    # Litestar runs plain functions in a worker thread: a hop per request on the hot path.
    assert inspect.iscoroutinefunction(allow(Role.admin))
    assert inspect.iscoroutinefunction(jwt_auth(SETTINGS, SystemClock()).retrieve_user_handler)


def test_a_token_living_longer_than_allowed_is_refused_minted_or_seen() -> None:
    short = msgspec.structs.replace(SETTINGS, ttl_seconds=1800, max_ttl_seconds=3600)
    with pytest.raises(TokenRequestError, match="at most"):
        mint(short, Role.admin, sub="a", ttl=timedelta(hours=2))
    long_lived = mint(SETTINGS, Role.admin, sub="a", ttl=timedelta(hours=2))
    assert verify(SETTINGS, long_lived).sub == "a"
    with pytest.raises(UnauthorizedError):
        verify(short, long_lived)
    with pytest.raises(StartupError, match="CHIBO_AUTH"):
        from_env(AuthSettings, "CHIBO_AUTH_", {"CHIBO_AUTH_KEY": SETTINGS.key,
                                              "CHIBO_AUTH_MAX_TTL_SECONDS": "60"})  # fmt: skip
