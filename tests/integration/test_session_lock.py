"""Session advisory locks on pooled connections: pools skip asyncpg's reset on release, so a
lock must never outlive its block."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.dev.servers import Servers
from services.infra.database import create_pool, session_lock

KEY = 4242


@pytest.fixture
async def pool(servers: Servers, clean: None) -> AsyncIterator[asyncpg.Pool]:
    """A pool of one connection, so each test borrows the same one again."""
    pool = await create_pool(servers.database_url, min_size=1, max_size=1)
    yield pool
    await pool.close()


async def _held(db: asyncpg.Connection) -> int:
    query = "select count(*) from pg_locks where locktype = 'advisory' and objid = $1"
    return int(await db.fetchval(query, KEY))


async def test_a_session_lock_is_released_when_its_block_ends(
    pool: asyncpg.Pool, db: asyncpg.Connection
) -> None:
    async with pool.acquire() as conn, session_lock(conn, KEY) as locked:
        assert locked
        assert await _held(db) == 1
        assert not await db.fetchval("select pg_try_advisory_lock($1)", KEY)
    assert await _held(db) == 0
    async with pool.acquire() as conn:  # the same connection, borrowed again, holds nothing
        assert await conn.fetchval("select count(*) from pg_locks where locktype = 'advisory'") == 0


async def test_a_session_lock_is_released_when_its_block_fails(
    pool: asyncpg.Pool, db: asyncpg.Connection
) -> None:
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, session_lock(conn, KEY):
            raise RuntimeError("the work failed")
    assert await _held(db) == 0


async def test_try_lock_says_no_while_another_session_holds_it(
    pool: asyncpg.Pool, db: asyncpg.Connection
) -> None:
    assert await db.fetchval("select pg_try_advisory_lock($1)", KEY)
    async with pool.acquire() as conn, session_lock(conn, KEY, wait=False) as locked:
        assert not locked
    await db.execute("select pg_advisory_unlock($1)", KEY)
    async with pool.acquire() as conn, session_lock(conn, KEY, wait=False) as locked:
        assert locked
    assert await _held(db) == 0


async def test_a_lock_that_cannot_be_released_closes_its_connection(
    pool: asyncpg.Pool, db: asyncpg.Connection
) -> None:
    pids: list[int] = []

    async def leave_a_failed_transaction() -> None:
        async with pool.acquire() as conn, session_lock(conn, KEY):
            pids.append(conn.get_server_pid())
            # A failed transaction left open: the unlock itself is refused.
            await conn.execute("begin")
            with contextlib.suppress(asyncpg.DivisionByZeroError):
                await conn.execute("select 1 / 0")

    with pytest.raises(asyncpg.InFailedSQLTransactionError):
        await leave_a_failed_transaction()
    assert await _held(db) == 0
    async with pool.acquire() as conn:  # the pool opens a fresh connection
        assert conn.get_server_pid() != pids[0]
