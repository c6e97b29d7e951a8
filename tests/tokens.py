"""Tokens for the tests: one key, and headers for any role and scope."""

from __future__ import annotations

from services.contracts.roles import Role
from services.infra.auth import AuthSettings
from services.infra.auth.tokens import mint

AUTH = AuthSettings(key="test-key-only-for-tests-0123456789abcdef")


def bearer(
    role: Role, *, org: str | None = None, cell: str | None = None, sub: str | None = None
) -> dict[str, str]:
    """An Authorization header with a token of the tests' key for `role` (and its scope)."""
    token = mint(AUTH, role, sub=sub or f"test-{role}", org=org, cell=cell)
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(Role.admin)
