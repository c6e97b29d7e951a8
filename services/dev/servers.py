"""Embedded PostgreSQL and NATS JetStream for machines that have only Python.

Used when `DATABASE_URL` / `NATS_URL` are not set. Both listen on free local endpoints (a Unix
socket inside the data folder for PostgreSQL, a random loopback port for NATS), so they never
collide with servers already running on the standard ports.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import TracebackType

from services.dev.nats import EmbeddedNats
from services.dev.postgres import EmbeddedPostgres


class Infrastructure:
    """PostgreSQL and NATS URLs: from the environment, or embedded servers started here."""

    def __init__(
        self,
        data_dir: Path,
        database: str = "chibo",
        throwaway: bool = False,
        *,
        environment: bool = True,
    ) -> None:
        """`environment=False` ignores DATABASE_URL and NATS_URL: both servers are embedded."""
        self.data_dir = data_dir
        self.throwaway = throwaway
        self._database = database
        self._postgres: EmbeddedPostgres | None = None
        self._nats: EmbeddedNats | None = None
        self.database_url = os.environ.get("DATABASE_URL", "") if environment else ""
        self.nats_url = os.environ.get("NATS_URL", "") if environment else ""

    @property
    def embedded(self) -> dict[str, str]:
        """The servers this object started itself, each with its version and the package's."""
        servers = (("postgres", self._postgres), ("nats", self._nats))
        return {name: server.version for name, server in servers if server}

    def start(self) -> None:
        """Start embedded servers for whichever URL is missing."""
        if self.throwaway:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        if not self.database_url:
            self._postgres = EmbeddedPostgres(self.data_dir / "postgres", self._database)
            self.database_url = self._postgres.start()
        if not self.nats_url:
            self._nats = EmbeddedNats(self.data_dir / "nats")
            self.nats_url = self._nats.start()

    def stop(self) -> None:
        """Stop what `start` started; remove the data too when it was throw-away."""
        if self._nats:
            self._nats.stop()
        if self._postgres:
            self._postgres.stop()
        if self.throwaway:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Infrastructure:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
