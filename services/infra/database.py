"""PostgreSQL access shared by both services: the pool and the schema migrations."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger(__name__)

# Faults that pass by themselves: worth retrying the same work later (HTTP answers 503).
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.AdminShutdownError,
)


def newer(table: str) -> str:
    """SQL for an upsert's `where`: the incoming row (`excluded`) records a later event than the
    one `table` holds. Envelope time, then event id byte by byte (a C-collated column): the order
    every service keeps registrations and meetings in, whatever the order they arrive in."""
    return f"(excluded.event_time, excluded.event_id) > ({table}.event_time, {table}.event_id)"


# What a repository function takes: a plain connection or one borrowed from the pool.
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    """Open a connection pool; JSON and JSONB travel as text so msgspec does the coding."""
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        reset=_keep_session,
    )
    assert pool is not None
    return pool


async def _keep_session(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """What a connection needs on its way back to the pool: nothing more than asyncpg's own
    clean-up, which rolls back a transaction left open.

    asyncpg's default also sends `RESET ALL; UNLISTEN *; CLOSE ALL; pg_advisory_unlock_all()`,
    a round trip on every release, before the request that borrowed the connection can answer.
    Chibo leaves no session state behind: no SET, no LISTEN, no cursor outside a transaction,
    and its one kind of session lock, `session_lock`, releases itself or closes the connection.
    """


@contextlib.asynccontextmanager
async def session_lock(conn: Connection, key: int, *, wait: bool = True) -> AsyncIterator[bool]:
    """Hold the session advisory lock `key` for the block; yields False if `wait` is False
    and another session holds it.

    The lock must not outlive the block on a pooled connection (see `_keep_session`): if it
    cannot be released, the connection is closed, which releases it.
    """
    try:
        if wait:
            await conn.execute("select pg_advisory_lock($1)", key)
            held = True
        else:
            held = bool(await conn.fetchval("select pg_try_advisory_lock($1)", key))
    except BaseException:
        _close(conn)  # interrupted: the server may have granted the lock all the same
        raise
    if not held:
        yield False
        return
    failed = False
    try:
        yield True
    except BaseException:
        failed = True
        raise
    finally:
        try:
            await conn.execute("select pg_advisory_unlock($1)", key)
        except BaseException:
            _close(conn)
            if not failed:  # else the block's own exception is the one to see
                raise


def _close(conn: Connection) -> None:
    with contextlib.suppress(asyncpg.InterfaceError):  # closed and returned already
        conn.terminate()


async def migrate(pool: asyncpg.Pool, schema: str, package: str) -> list[str]:
    """Apply the `NNN_name.sql` files of `package` not yet applied to `schema`, in order, then
    those every schema has (`services.infra.migrations`, recorded as `infra/NNN_name.sql`).

    Runs under a session advisory lock so that several replicas starting at once apply each
    migration exactly once. Returns the names applied now.
    """
    files = [(f.name, f.read_text(encoding="utf-8")) for f in _sql_files(package)]
    files += [
        (f"infra/{f.name}", f.read_text(encoding="utf-8").replace("{schema}", schema))
        for f in _sql_files(SHARED_MIGRATIONS)
    ]
    lock_key = int.from_bytes(
        hashlib.sha256(f"chibo:{schema}".encode()).digest()[:8], "big", signed=True
    )
    applied_now: list[str] = []
    async with pool.acquire() as conn, session_lock(conn, lock_key):
        await conn.execute(f"create schema if not exists {schema}")
        await conn.execute(
            f"create table if not exists {schema}.schema_migrations ("
            " name text primary key, applied_at timestamptz not null default now())"
        )
        done = {r["name"] for r in await conn.fetch(f"select name from {schema}.schema_migrations")}
        for name, text in files:
            if name in done:
                continue
            async with conn.transaction():
                await conn.execute(text)
                await conn.execute(
                    f"insert into {schema}.schema_migrations (name) values ($1)", name
                )
            applied_now.append(name)
            log.info("migration applied", extra={"schema": schema, "migration": name})
    return applied_now


SHARED_MIGRATIONS = "services.infra.migrations"


def _sql_files(package: str) -> list[Traversable]:
    found = (f for f in resources.files(package).iterdir() if f.name.endswith(".sql"))
    return sorted(found, key=lambda f: f.name)


async def is_reachable(pool: asyncpg.Pool) -> bool:
    """True when a round trip to PostgreSQL, a connection's borrowing included, succeeds."""
    try:
        return bool(await pool.fetchval("select true"))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
