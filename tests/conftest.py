"""Real PostgreSQL and NATS for the tests that need them: the ones in DATABASE_URL / NATS_URL,
or embedded servers started once per session on free local endpoints."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import nats
import pytest
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from services.contracts.subjects import DLQ_STREAM, EVENTS_STREAM, FINDINGS_STREAM, WORKFLOW_STREAM
from services.infra.embedded import Infrastructure

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ("rules", "workflow")
STREAMS = (EVENTS_STREAM, DLQ_STREAM, FINDINGS_STREAM, WORKFLOW_STREAM)


@pytest.fixture(scope="session")
def servers() -> Iterator[Infrastructure]:
    """The session's PostgreSQL and NATS (embedded, throw-away, unless URLs are set)."""
    folder = ROOT / ".chibo" / f"test-{os.getpid()}"
    with Infrastructure(folder, database="chibo_test", throwaway=True) as infra:
        yield infra


@pytest.fixture
async def clean(servers: Infrastructure) -> None:
    """Start the test from nothing: no Chibo schemas, no Chibo streams."""
    conn = await asyncpg.connect(servers.database_url)
    try:
        for schema in SCHEMAS:
            await conn.execute(f"drop schema if exists {schema} cascade")
    finally:
        await conn.close()
    nc = await nats.connect(servers.nats_url)
    try:
        js = nc.jetstream()
        for stream in STREAMS:
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(stream)
    finally:
        await nc.close()


@pytest.fixture
async def db(servers: Infrastructure, clean: None) -> AsyncIterator[asyncpg.Connection]:
    """A connection for reading what the services stored."""
    conn = await asyncpg.connect(servers.database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def nc(servers: Infrastructure, clean: None) -> AsyncIterator[Client]:
    """A NATS connection acting as a source system."""
    client = await nats.connect(servers.nats_url)
    yield client
    await client.close()
