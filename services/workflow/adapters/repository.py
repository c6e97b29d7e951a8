"""Cases, their audit trail and definition texts in PostgreSQL. The caller owns the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from services.infra.database import Connection
from services.workflow.domain.model import Case

_JSON = ("findings", "team", "shortcomings", "actions", "verification_notes")
_FIELDS = [f for f in Case.__struct_fields__ if f != "id"]
_MUTABLE = [f for f in _FIELDS if f not in ("cell_id", "kind", "year", "definition")]
_INSERT = (
    f"insert into workflow.cases (id, {', '.join(_FIELDS)}, proposal_key, created_at, updated_at)"
    f" values ({', '.join(f'${i}' for i in range(1, len(_FIELDS) + 5))})"
    " on conflict (proposal_key) do nothing"
)
_UPDATE = (
    "update workflow.cases set "
    + ", ".join(f"{name} = ${i}" for i, name in enumerate(_MUTABLE, start=3))
    + f", updated_at = ${len(_MUTABLE) + 3} where id = $1 and version = $2"
)
CASE_FIELDS = _FIELDS
_COLUMNS = "id, " + ", ".join(_FIELDS)
_N = len(_MUTABLE) + 4  # the first parameter after the update's (which ends with updated_at)
# The row update, its audit row and its outbox row (the table of services.infra.outbox) in one
# statement: atomic like a transaction, one round trip instead of five. The audit and outbox
# rows exist only if the update matched, i.e. only if the version was still the expected one.
_TRANSITION = f"""
with moved as ({_UPDATE} returning id),
audit as (
    insert into workflow.audit (case_id, version, at, actor, role, trigger, from_state,
                                to_state, comment, payload)
    select id, ${_N}, ${_N + 1}, ${_N + 2}, ${_N + 3}, ${_N + 4}, ${_N + 5}, ${_N + 6},
           ${_N + 7}, ${_N + 8} from moved
),
message as (
    insert into workflow.outbox (subject, msg_id, payload)
    select ${_N + 9}, ${_N + 10}, ${_N + 11} from moved
)
select count(*) from moved
"""


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One row of a case's audit trail."""

    version: int
    at: datetime
    actor: str
    role: str
    trigger: str
    from_state: str | None
    to_state: str
    comment: str
    payload: dict[str, Any]


def _values(case: Case, names: list[str]) -> list[Any]:
    return [
        msgspec.json.encode(getattr(case, n)).decode() if n in _JSON else getattr(case, n)
        for n in names
    ]


def to_case(row: asyncpg.Record) -> Case:
    """A case from a row of `workflow.cases` (JSON columns arrive as text)."""
    data = dict(row)
    for name in _JSON:
        data[name] = msgspec.json.decode(data[name])
    return msgspec.convert(data, Case)


async def insert_case(conn: Connection, case: Case, at: datetime, proposal_key: str | None) -> bool:
    """Store a new case; False when a case with the same proposal key exists already."""
    status = await conn.execute(_INSERT, case.id, *_values(case, _FIELDS), proposal_key, at, at)
    return status.endswith(" 1")


async def commit_transition(
    conn: Connection,
    case: Case,
    expected_version: int,
    entry: AuditEntry,
    message: tuple[str, str, bytes],
) -> bool:
    """Write the moved case, its audit row and its outbox message (msg id, subject, body) at once.

    Nothing is written, and False returned, when the row is no longer at `expected_version`.
    """
    moved = await conn.fetchval(
        _TRANSITION,
        case.id,
        expected_version,
        *_values(case, _MUTABLE),
        entry.at,
        *_audit_values(entry),
        *message,
    )
    return bool(moved)


def _audit_values(entry: AuditEntry) -> list[Any]:
    return [
        entry.version,
        entry.at,
        entry.actor,
        entry.role,
        entry.trigger,
        entry.from_state,
        entry.to_state,
        entry.comment,
        msgspec.json.encode(entry.payload).decode(),
    ]


async def get_case(conn: Connection, case_id: str) -> Case | None:
    """The case with `case_id`, or None."""
    row = await conn.fetchrow(f"select {_COLUMNS} from workflow.cases where id = $1", case_id)
    return to_case(row) if row else None


async def get_case_within(conn: Connection, case_id: str, org_id: str) -> tuple[Case, bool] | None:
    """The case, and whether its org is `org_id` or below it: one round trip for both."""
    row = await conn.fetchrow(
        f"""with recursive c as (select {_COLUMNS} from workflow.cases where id = $1),
        up(org_id) as (
            select org_id from c where org_id is not null
            union
            select o.parent_id from workflow.orgs o join up on o.org_id = up.org_id
            where o.parent_id is not null
        )
        select c.*, exists (select 1 from up where org_id = $2) as within from c""",
        case_id,
        org_id,
    )
    return (to_case(row), bool(row["within"])) if row else None


async def append_audit(conn: Connection, case_id: str, entry: AuditEntry) -> None:
    """Append one audit row; the table itself refuses changes to rows already there."""
    await conn.execute(
        "insert into workflow.audit (case_id, version, at, actor, role, trigger, from_state,"
        " to_state, comment, payload) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        case_id,
        *_audit_values(entry),
    )


async def history(conn: Connection, case_id: str) -> list[AuditEntry]:
    """A case's audit trail, oldest first."""
    rows = await conn.fetch(
        "select version, at, actor, role, trigger, from_state, to_state, comment, payload"
        " from workflow.audit where case_id = $1 order by version",
        case_id,
    )
    return [AuditEntry(**{**dict(r), "payload": msgspec.json.decode(r["payload"])}) for r in rows]
