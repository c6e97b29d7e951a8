"""Real PostgreSQL and NATS for the tests that need them: the ones in DATABASE_URL / NATS_URL,
or embedded servers started once per session on free local endpoints."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import nats
import pytest
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from services.dev.servers import Servers

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ("rules", "workflow")
STREAM_PREFIX = "CHIBO_"


def _reap_abandoned_servers() -> None:
    """Stop the embedded servers of test sessions that were killed before they could."""
    for folder in (ROOT / ".chibo").glob("test-*"):
        pid = folder.name.removeprefix("test-")
        if not pid.isdigit() or Path(f"/proc/{pid}").exists():
            continue  # not ours, or its session still runs
        pidfile = folder / "postgres" / "postmaster.pid"
        servers = [pidfile.read_text().split()[0]] if pidfile.exists() else []
        servers += [p.stem.rsplit("_", 1)[1] for p in (folder / "nats" / "ports").glob("*.ports")]
        for server in servers:
            with contextlib.suppress(ProcessLookupError, ValueError, PermissionError):
                os.kill(int(server), signal.SIGTERM)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """The session's PostgreSQL and NATS (embedded, throw-away, unless URLs are set)."""
    _reap_abandoned_servers()
    folder = ROOT / ".chibo" / f"test-{os.getpid()}"
    with Servers(folder, database="chibo_test", throwaway=True) as infra:
        yield infra


@pytest.fixture
async def clean(servers: Servers) -> None:
    """Start the test from nothing: no Chibo schemas, no Chibo streams."""
    await clean_servers(servers)


async def clean_servers(servers: Servers) -> None:
    """Drop every Chibo schema and stream from the servers."""
    conn = await asyncpg.connect(servers.database_url)
    try:
        for schema in SCHEMAS:
            await conn.execute(f"drop schema if exists {schema} cascade")
    finally:
        await conn.close()
    nc = await nats.connect(servers.nats_url)
    try:
        js = nc.jetstream()
        for stream in await js.streams_info():
            if stream.config.name and stream.config.name.startswith(STREAM_PREFIX):
                with contextlib.suppress(NotFoundError):
                    await js.delete_stream(stream.config.name)
    finally:
        await nc.close()


@pytest.fixture
async def db(servers: Servers, clean: None) -> AsyncIterator[asyncpg.Connection]:
    """A connection for reading what the services stored."""
    conn = await asyncpg.connect(servers.database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def nc(servers: Servers, clean: None) -> AsyncIterator[Client]:
    """A NATS connection acting as a source system."""
    client = await nats.connect(servers.nats_url)
    yield client
    await client.close()
