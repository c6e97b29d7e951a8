"""The `--db` fact source: the facts the rules service stored, read back from PostgreSQL.

Cells are read in chunks ordered by id, each chunk's meetings in one query, so memory holds one
chunk of cells at a time however long the history. Only winning, non-retracted records of
registered cells are read: retracted meetings and pending ones (cell not registered) are not
judged. Orders use the C collation so cells and meetings come out exactly as the in-memory
source sorts them (Python compares strings code point by code point).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import datetime
from types import TracebackType

import asyncpg
import msgspec

from services.contracts.events import Absence, CellRegistered, CellType, MeetingKind
from services.rules.engine.facts import CellFacts, MeetingFact
from services.rules.engine.periods import VIETNAM

_CELL_COLUMNS = "cell_id, name, org_id, cell_type, has_committee, established_on, dissolved_on"
_CELLS_AFTER = f"""
select {_CELL_COLUMNS} from rules.cells
where cell_id collate "C" > $1 order by cell_id collate "C" limit $2
"""
_ONE_CELL = f"select {_CELL_COLUMNS} from rules.cells where cell_id = $1"
_MEETINGS_OF = """
select meeting_id, cell_id, kind, held_at, duration_minutes, includes_thematic, members_total,
    members_exempt, members_present, absences, topic_groups, criticism_held, hcm_study
from rules.meetings
where cell_id = any($1::text[]) and not retracted
order by cell_id collate "C", held_at, meeting_id collate "C"
"""
_COUNT = "select count(*) from rules.cells"

_KINDS = {kind.value: kind for kind in MeetingKind}
_absences = msgspec.json.Decoder(list[Absence])


class DatabaseFacts:
    """A `FactSource` over the `rules` schema; use it as a context manager to close it."""

    def __init__(self, url: str, chunk_cells: int = 500) -> None:
        self.url, self.chunk_cells = url, chunk_cells
        self._runner = asyncio.Runner()
        self._conn: asyncpg.Connection | None = None

    def __enter__(self) -> DatabaseFacts:
        self._conn = self._runner.run(asyncpg.connect(self.url))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._conn is not None:
            self._runner.run(self._conn.close())
            self._conn = None
        self._runner.close()

    def cells(self) -> Iterator[CellFacts]:
        """Every registered cell by id, each with its judged meetings sorted by `held_at`."""
        after = ""
        while True:
            chunk = self._fetch(_CELLS_AFTER, after, self.chunk_cells)
            if not chunk:
                return
            yield from self._with_meetings(chunk)
            after = chunk[-1]["cell_id"]

    def cell(self, cell_id: str) -> CellFacts | None:
        """One registered cell with its judged meetings, or None if it is not registered."""
        found = self._fetch(_ONE_CELL, cell_id)
        return next(self._with_meetings(found), None)

    def cell_count(self) -> int:
        """How many cells are registered."""
        return int(self._fetch(_COUNT)[0][0])

    def _with_meetings(self, cells: Sequence[asyncpg.Record]) -> Iterator[CellFacts]:
        rows = self._fetch(_MEETINGS_OF, [c["cell_id"] for c in cells])
        by_cell: dict[str, list[MeetingFact]] = {c["cell_id"]: [] for c in cells}
        for row in rows:
            by_cell[row[1]].append(_meeting(*row))
        for c in cells:
            yield CellFacts(_cell(c), by_cell[c["cell_id"]])

    def _fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        if self._conn is None:
            raise RuntimeError("DatabaseFacts is used outside its `with` block")
        return self._runner.run(self._conn.fetch(query, *args))


def _cell(row: asyncpg.Record) -> CellRegistered:
    return CellRegistered(
        cell_id=row["cell_id"],
        name=row["name"],
        org_id=row["org_id"],
        cell_type=CellType(row["cell_type"]),
        has_committee=row["has_committee"],
        established_on=row["established_on"],
        dissolved_on=row["dissolved_on"],
    )


def _meeting(
    meeting_id: str,
    cell_id: str,
    kind: str,
    held_at: datetime,
    duration_minutes: int,
    includes_thematic: bool,
    members_total: int,
    members_exempt: int,
    members_present: int,
    absences: str,
    topic_groups: list[int],
    criticism_held: bool,
    hcm_study: bool,
) -> MeetingFact:
    # The same record `facts.meeting_fact` builds from an event, without decoding one.
    held_at = held_at.astimezone(VIETNAM)
    day = held_at.date()
    excused: tuple[str, ...] = ()
    unexcused: tuple[str, ...] = ()
    if absences != "[]":
        listed = _absences.decode(absences)
        excused = tuple(a.member_id for a in listed if a.excused)
        unexcused = tuple(a.member_id for a in listed if not a.excused)
    return MeetingFact(
        meeting_id,
        cell_id,
        _KINDS[kind],
        held_at,
        day,
        day.year * 12 + day.month - 1,
        duration_minutes,
        includes_thematic,
        members_total,
        members_exempt,
        members_present,
        excused,
        unexcused,
        tuple(topic_groups),
        criticism_held,
        hcm_study,
    )
