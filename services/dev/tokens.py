"""Development tokens for `chibo up`: a key kept under the data folder, one token per role."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shlex
import sys
import urllib.request
from pathlib import Path

import asyncpg

from services.contracts.roles import Role
from services.infra.auth import AuthSettings
from services.infra.auth.tokens import mint
from services.rules.adapters import queries

KEY_FILE = "auth.key"
KEY_VARIABLE = "CHIBO_AUTH_KEY"


def development_key(data_dir: Path) -> str:
    """The key in `<data_dir>/auth.key`, made on first use so tokens outlive a restart."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Owner-only from the start: whoever reads the key can mint an admin token.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def role_tokens(settings: AuthSettings, database_url: str, mint_command: str) -> list[str]:
    """Banner lines: one token per role, org-scoped ones to the first root org registered,
    then the command (`mint_command`) that mints more."""
    hours = settings.ttl_seconds // 3600
    lines = [f"  tokens (development key in {KEY_FILE}; valid {hours} h; Authorization: Bearer …)"]
    for role, token, scope in _per_role(settings, database_url):
        if token is None:
            needs = "--cell ID" if role is Role.secretary else "--org ID"
            lines.append(f"  {role:<12} none yet: register an org and a cell, then "
                         f"mint one with `--role {role} {needs}` (below)")  # fmt: skip
            continue
        where = "".join(f" ({kind} {value})" for kind, value in scope.items())
        lines.append(f"  {role:<12} {token}{where}")
    lines.append(f"  {'more':<12} {mint_command} --role ROLE [--org ID | --cell ID] [--ttl 7d]")
    return lines


def signin_links(settings: AuthSettings, database_url: str, web_url: str) -> list[str]:
    """Banner lines: a sign-in link per role for the pages, each carrying a one-time code
    (good once, for a few minutes) that the pages service swapped for a fresh token."""
    lines = ["  sign in (each link works once, for a few minutes)"]
    for role, token, scope in _per_role(settings, database_url):
        if role is Role.source or token is None:
            continue  # a source system has no pages; scoped roles wait for their org or cell
        request = urllib.request.Request(
            f"{web_url}/signin/codes",
            method="POST",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            code = json.loads(answer.read())["code"]
        where = "".join(f" ({kind} {value})" for kind, value in scope.items())
        lines.append(f"  {role:<12} {web_url}/signin/{code}{where}")
    return lines


def _per_role(
    settings: AuthSettings, database_url: str
) -> list[tuple[Role, str | None, dict[str, str]]]:
    """A development token per role (None for a scoped role while nothing is registered)."""
    root, cell = asyncio.run(_first_root_and_cell(database_url))
    scopes: dict[Role, dict[str, str]] = {
        Role.inspector: {"org": root} if root else {},
        Role.viewer: {"org": root} if root else {},
        Role.secretary: {"cell": cell} if cell else {},
    }
    found: list[tuple[Role, str | None, dict[str, str]]] = []
    for role in Role:
        scope = scopes.get(role, {})
        if role in scopes and not scope:
            found.append((role, None, scope))
            continue
        token = mint(
            settings, role, sub=f"dev-{role}", org=scope.get("org"), cell=scope.get("cell")
        )
        found.append((role, token, scope))
    return found


def mint_command(data_dir: Path, key_configured: bool) -> str:
    """How to run `chibo token` from here, as a shell command: with this folder's development
    key unless a key is configured, and the `chibo` installed beside the running Python
    (`.venv/bin/chibo` under `./dev`), or that Python itself."""
    script = Path(sys.executable).parent / "chibo"
    chibo = (
        _from_here(script)
        if script.exists()
        else f"{_from_here(Path(sys.executable))} -m services.cli"
    )
    if key_configured:
        return f"{chibo} token"
    return f"{KEY_VARIABLE}=$(cat {_from_here(data_dir / KEY_FILE)}) {chibo} token"


def _from_here(path: Path) -> str:
    """`path` relative to the working folder where it lies below it, quoted for a shell."""
    with contextlib.suppress(ValueError):
        path = path.relative_to(Path.cwd())
    return shlex.quote(str(path))


async def _first_root_and_cell(database_url: str) -> tuple[str | None, str | None]:
    conn = await asyncpg.connect(database_url)
    try:
        return await queries.first_root_and_cell(conn)
    finally:
        await conn.close()
