"""Tallied cell years (`domain.tally`) in PostgreSQL: each part in its column, as MessagePack."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

import msgspec

from services.infra.database import Connection
from services.rules.domain.score import Score
from services.rules.domain.tally import CellYear, Mark, RuleTally

T = TypeVar("T")
_encode = msgspec.msgpack.Encoder().encode


@dataclass(frozen=True)
class Part(Generic[T]):
    """One part of a tally: its column, how it is read back, and where a tally holds it."""

    column: str
    decode: Callable[[bytes], T]
    of: Callable[[CellYear], T]


SCORE: Part[Score] = Part("score", msgspec.msgpack.Decoder(Score).decode, lambda t: t.score)
RULES: Part[dict[str, RuleTally]] = Part(
    "rules", msgspec.msgpack.Decoder(dict[str, RuleTally]).decode, lambda t: t.rules
)
MONTHS: Part[dict[str, list[Mark]]] = Part(
    "months", msgspec.msgpack.Decoder(dict[str, list[Mark]]).decode, lambda t: t.months
)


async def read(
    conn: Connection,
    cell_ids: Collection[str],
    year: int,
    pack_version: str,
    horizon: date,
    part: Part[T],
) -> dict[str, bytes]:
    """`part` of the stored tallies of `year` among `cell_ids` made with this pack and horizon,
    as stored (`Part.decode` reads it; equal parts are equal bytes)."""
    rows = await conn.fetch(
        f"select cell_id, {part.column} as body from rules.tallies"  # a fixed column, not input
        " where cell_id = any($1::text[]) and year = $2 and pack_version = $3 and horizon = $4",
        list(cell_ids),
        year,
        pack_version,
        horizon,
    )
    return {row["cell_id"]: row["body"] for row in rows}


async def write(
    conn: Connection, tallies: Iterable[CellYear], pack_version: str, horizon: date
) -> None:
    """Keep each tally in place of the cell year's previous one."""
    await conn.executemany(
        """insert into rules.tallies (cell_id, year, pack_version, horizon, score, rules, months)
           values ($1, $2, $3, $4, $5, $6, $7)
           on conflict (cell_id, year) do update set pack_version = excluded.pack_version,
               horizon = excluded.horizon, score = excluded.score, rules = excluded.rules,
               months = excluded.months""",
        [_row(t, pack_version, horizon) for t in tallies],
    )


def encode(tally: CellYear, part: Part[T]) -> bytes:
    """`part` of `tally` as it is stored."""
    return _encode(part.of(tally))


def _row(t: CellYear, pack_version: str, horizon: date) -> tuple[object, ...]:
    parts = (encode(t, SCORE), encode(t, RULES), encode(t, MONTHS))
    return (t.cell_id, t.year, pack_version, horizon, *parts)


async def forget(conn: Connection, cell_ids: Collection[str]) -> None:
    """Drop every tally of `cell_ids`, whose facts have changed."""
    await conn.execute("delete from rules.tallies where cell_id = any($1::text[])", list(cell_ids))
