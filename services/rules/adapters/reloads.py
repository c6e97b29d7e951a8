"""The last reload of the rule pack, kept in PostgreSQL so that every replica tells the same."""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec

from services.infra.database import Connection
from services.rules.domain.impact import Impact


class ReloadResult(enum.StrEnum):
    """What a reload came to: a new pack in force, the same pack, or the new pack refused."""

    loaded = "loaded"
    unchanged = "unchanged"
    refused = "refused"


class LastReload(msgspec.Struct, kw_only=True):
    """One reload: when, who asked (None: the file watcher), what it came to, and its impact
    (a new pack) or why it was refused (`detail`, `errors`)."""

    at: datetime
    actor: str | None
    result: ReloadResult
    version: str
    previous_version: str
    impact: Impact | None = None
    detail: str | None = None
    errors: list[str] = []


async def record(conn: Connection, reload: LastReload) -> None:
    """Keep `reload` as the last one, in place of the one before."""
    impact = None if reload.impact is None else msgspec.json.encode(reload.impact).decode()
    await conn.execute(
        """insert into rules.last_reload
               (at, actor, result, version, previous_version, impact, detail, errors)
           values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::jsonb)
           on conflict (only_row) do update set
               at = excluded.at, actor = excluded.actor, result = excluded.result,
               version = excluded.version, previous_version = excluded.previous_version,
               impact = excluded.impact, detail = excluded.detail, errors = excluded.errors""",
        reload.at,
        reload.actor,
        reload.result.value,
        reload.version,
        reload.previous_version,
        impact,
        reload.detail,
        msgspec.json.encode(reload.errors).decode(),
    )


async def last(conn: Connection) -> LastReload | None:
    """The last reload kept, if any."""
    row = await conn.fetchrow(
        "select at, actor, result, version, previous_version, impact::text as impact, detail,"
        " errors::text as errors from rules.last_reload"
    )
    if row is None:
        return None
    impact = row["impact"]
    return LastReload(
        at=row["at"],
        actor=row["actor"],
        result=ReloadResult(row["result"]),
        version=row["version"],
        previous_version=row["previous_version"],
        impact=None if impact is None else msgspec.json.decode(impact, type=Impact),
        detail=row["detail"],
        errors=msgspec.json.decode(row["errors"], type=list[str]),
    )
