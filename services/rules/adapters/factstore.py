"""The `--db` fact source: the facts the rules service stored, read back from PostgreSQL.

Cells are read in chunks ordered by id, so memory holds one chunk of cells however long the
history. Only winning, non-retracted records of registered cells are read: retracted meetings
and pending ones (cell not registered) are never judged. Orders use the C collation, so cells
and meetings come out exactly as the in-memory source sorts them (code point by code point).

PostgreSQL shapes each cell's meetings as one JSON array of `MeetingFact` rows, which msgspec
decodes straight into the engine's records: the per-meeting work runs in the database server,
beside the engine, instead of row by row in Python. The session's time zone is UTC+07:00, so
`held_at`, its date and its month come out in Vietnam time, as `facts.meeting_fact` makes them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

import asyncpg
import msgspec

from services.infra.errors import StartupError
from services.rules.adapters.repository import registered_cell
from services.rules.domain.facts import CellFacts, MeetingFact

VIETNAM_SESSION = {"timezone": "<+07>-07"}  # POSIX notation for UTC+07:00, no daylight saving
_CELLS = """
select c.cell_id, c.name, c.org_id, c.cell_type, c.has_committee, c.established_on,
    c.dissolved_on, (
        select coalesce(json_agg(json_build_array(
            m.meeting_id, m.cell_id, m.kind, m.held_at, m.held_at::date,
            extract(year from m.held_at)::int * 12 + extract(month from m.held_at)::int - 1,
            m.duration_minutes, m.includes_thematic, m.members_total, m.members_exempt,
            m.members_present,
            jsonb_path_query_array(m.absences, '$[*] ? (@.excused == true).member_id'),
            jsonb_path_query_array(m.absences, '$[*] ? (@.excused == false).member_id'),
            m.topic_groups, m.criticism_held, m.hcm_study
        ) order by m.held_at, m.meeting_id collate "C"), '[]')::text
        from rules.meetings m
        where m.cell_id = c.cell_id and not m.retracted
    ) as meetings
from rules.cells c
"""
_CELLS_AFTER = f"""{_CELLS}
where c.cell_id collate "C" > $1 order by c.cell_id collate "C" limit $2
"""
_ONE_CELL = f"{_CELLS} where c.cell_id = $1"
_COUNT = "select count(*) from rules.cells"

_T = TypeVar("_T")
_meetings = msgspec.json.Decoder(list[MeetingFact])


class DatabaseFacts:
    """A `FactSource` over the `rules` schema; use it as a context manager to close it.

    Queries run on an event loop in a thread of their own, so that while the engine judges one
    chunk of cells, PostgreSQL is already producing the next.
    """

    def __init__(self, url: str, chunk_cells: int = 500) -> None:
        self.url, self.chunk_cells = url, chunk_cells
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="factstore")
        self._conn: asyncpg.Connection | None = None

    def __enter__(self) -> DatabaseFacts:
        self._thread.start()
        connecting = asyncpg.connect(self.url, server_settings=VIETNAM_SESSION)
        try:
            self._conn = self._submit(connecting).result()
        except (OSError, asyncpg.PostgresError) as exc:
            self._stop()
            raise StartupError(f"cannot read the stored facts: {exc}") from exc
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._conn is not None:
                self._submit(self._conn.close()).result()
                self._conn = None
        finally:
            self._stop()

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def cells(self) -> Iterator[CellFacts]:
        """Every registered cell by id, each with its judged meetings sorted by `held_at`."""
        pending = self._submit(self._fetch(_CELLS_AFTER, "", self.chunk_cells))
        try:
            while True:
                chunk = pending.result()
                if not chunk:
                    return
                after = chunk[-1]["cell_id"]
                pending = self._submit(self._fetch(_CELLS_AFTER, after, self.chunk_cells))
                yield from _cell_facts(chunk)
        finally:
            pending.result()  # the connection is free again before anyone closes it

    def cell(self, cell_id: str) -> CellFacts | None:
        """One registered cell with its judged meetings, or None if it is not registered."""
        found = self._submit(self._fetch(_ONE_CELL, cell_id)).result()
        return next(_cell_facts(found), None)

    def cell_count(self) -> int:
        """How many cells are registered."""
        return int(self._submit(self._fetch(_COUNT)).result()[0][0])

    async def _fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        if self._conn is None:
            raise RuntimeError("DatabaseFacts is used outside its `with` block")
        return await self._conn.fetch(query, *args)

    def _submit(self, work: Coroutine[Any, Any, _T]) -> Future[_T]:
        return asyncio.run_coroutine_threadsafe(work, self._loop)


def _cell_facts(rows: Sequence[asyncpg.Record]) -> Iterator[CellFacts]:
    for row in rows:
        yield CellFacts(registered_cell(row), _meetings.decode(row["meetings"]))
