"""The benchmarks' PostgreSQL, holding the synthetic history as the rules service stores it.

The server is `DATABASE_URL` when set, else an embedded one whose data stays under
`.chibo/bench/postgres` between runs. Loading goes through the service's own `store()` (the
same dedupe, correction and retraction semantics as production), in large batches; it is timed
on its own and is part of neither side of a comparison. A dataset already loaded is kept.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from services.contracts.codec import decode_event
from services.contracts.events import Event
from services.dev.servers import EmbeddedPostgres
from services.infra import database
from services.rules.service.ingest import store

FOLDER = Path(".chibo/bench/postgres")
BATCH = 20_000
_MARKER = "create table if not exists bench_loaded (dataset text primary key, seconds float8)"


@contextmanager
def bench_database() -> Iterator[str]:
    """The URL of the benchmarks' database, the embedded server running while in the block."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    server = EmbeddedPostgres(FOLDER, database="chibo_bench")
    try:
        yield server.start()
    finally:
        server.stop()


def load(url: str, events: Path) -> float | None:
    """Store the events of `events` unless that file is what the database holds already.

    Returns the seconds loading took, or None when nothing had to be loaded.
    """
    return asyncio.run(_load(url, events))


async def _load(url: str, events: Path) -> float | None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(_MARKER)
        held = await conn.fetchval("select dataset from bench_loaded")
        if held == events.name and await conn.fetchval("select to_regclass('rules.meetings')"):
            return None
        await conn.execute("drop schema if exists rules cascade; truncate bench_loaded")
    finally:
        await conn.close()
    started = time.perf_counter()
    pool = await database.create_pool(url, min_size=1, max_size=2)
    try:
        await database.migrate(pool, "rules", "services.rules.migrations")
        for batch in _batches(events):
            await store(pool, batch)
        await pool.execute("analyze")
        seconds = time.perf_counter() - started
        await pool.execute("insert into bench_loaded values ($1, $2)", events.name, seconds)
    finally:
        await pool.close()
    return seconds


def _batches(path: Path) -> Iterator[list[Event]]:
    batch: list[Event] = []
    with path.open("rb") as lines:
        for line in lines:
            batch.append(decode_event(line))
            if len(batch) == BATCH:
                yield batch
                batch = []
    if batch:
        yield batch
