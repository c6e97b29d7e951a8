"""The workflow's tables: cases and their audit trail, definition texts, and what the service
learns from other services (findings, cells, orgs). The caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import asyncpg
import msgspec

from services.contracts.events import CellRegisteredEvent, OrgRegisteredEvent
from services.contracts.findings import Finding, Mode, Severity
from services.infra import outbox
from services.infra.database import Connection, newer
from services.workflow.domain.fields import FindingRef
from services.workflow.domain.model import AuditEntry, Case, DeadlineKind

_JSON = ("findings", "team", "shortcomings", "actions", "verification_notes")
# Every column of a case but its id, in the order of `Case`.
CASE_COLUMNS = [f for f in Case.__struct_fields__ if f != "id"]
_MUTABLE = [f for f in CASE_COLUMNS if f not in ("cell_id", "kind", "year", "definition")]
_INSERT = (
    f"insert into workflow.cases (id, {', '.join(CASE_COLUMNS)}, proposal_key, created_at,"
    " updated_at)"
    f" values ({', '.join(f'${i}' for i in range(1, len(CASE_COLUMNS) + 5))})"
    " on conflict (proposal_key) do nothing"
)
_UPDATE = (
    "update workflow.cases set "
    + ", ".join(f"{name} = ${i}" for i, name in enumerate(_MUTABLE, start=3))
    + f", updated_at = ${len(_MUTABLE) + 3} where id = $1 and version = $2"
)
_COLUMNS = "id, " + ", ".join(CASE_COLUMNS)
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
message as ({outbox.insert_from("workflow", "moved", f"${_N + 9}", f"${_N + 10}", f"${_N + 11}")})
select count(*) from moved
"""


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
    status = await conn.execute(
        _INSERT, case.id, *_values(case, CASE_COLUMNS), proposal_key, at, at
    )
    return status.endswith(" 1")


async def commit_transition(
    conn: Connection,
    case: Case,
    expected_version: int,
    entry: AuditEntry,
    message: outbox.Message,
) -> bool:
    """Write the moved case, its audit row and its outbox message at once.

    Nothing is written, and False returned, when the row is no longer at `expected_version`.
    """
    moved = await conn.fetchval(
        _TRANSITION,
        case.id,
        expected_version,
        *_values(case, _MUTABLE),
        entry.at,
        *_audit_values(entry),
        message.subject,
        message.msg_id,
        message.payload,
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


async def save_definition(
    conn: Connection, name: str, version: str, source: str, file: str
) -> None:
    """Keep a definition text under its version (once; versions are content hashes)."""
    await conn.execute(
        "insert into workflow.definitions (name, version, source, file) values ($1, $2, $3, $4)"
        " on conflict do nothing",
        name,
        version,
        source,
        file,
    )


async def definition_text(conn: Connection, name: str, version: str) -> tuple[str, str] | None:
    """The text and file name of a stored definition version, or None."""
    row = await conn.fetchrow(
        "select source, file from workflow.definitions where name = $1 and version = $2",
        name,
        version,
    )
    return (row["source"], row["file"]) if row else None


# Advisory-lock namespace of cells in this schema (the rules service's is 7301).
_CELL_LOCKS = 7401
# Where a cell or org sits in the tree, kept from its latest registration (`newer`).
_KEEP = """
insert into workflow.{table} ({key}, {parent}, event_time, event_id) values ($1, $2, $3, $4)
on conflict ({key}) do update set {parent} = excluded.{parent},
    event_time = excluded.event_time, event_id = excluded.event_id
where {newer}
returning {key}
"""
_KEEP_CELL = _KEEP.format(table="cells", key="cell_id", parent="org_id", newer=newer("cells"))
_KEEP_ORG = _KEEP.format(table="orgs", key="org_id", parent="parent_id", newer=newer("orgs"))


async def lock_cell(conn: Connection, cell_id: str) -> None:
    """Hold the cell's lock until the transaction ends: its findings and registrations are
    taken one transaction at a time."""
    await conn.execute("select pg_advisory_xact_lock($1, hashtext($2))", _CELL_LOCKS, cell_id)


async def keep_finding(conn: Connection, finding: Finding) -> None:
    """Keep the finding's latest status (its highest revision, whatever the arrival order)."""
    await conn.execute(
        "insert into workflow.findings"
        " (rule_id, cell_id, scope, year, status, severity, mode, revision)"
        " values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (rule_id, cell_id, scope) do update"
        " set status = excluded.status, severity = excluded.severity, mode = excluded.mode,"
        " revision = excluded.revision where findings.revision <= excluded.revision",
        finding.rule_id,
        finding.cell_id,
        finding.scope,
        finding.period_start.year,
        finding.status,
        finding.severity,
        finding.mode,
        finding.revision,
    )


async def open_findings(
    conn: Connection, cell_id: str, year: int, severities: list[Severity]
) -> list[tuple[str, str, str]]:
    """The identities of the cell's open findings of `year` of enforced rules, of `severities`."""
    rows = await conn.fetch(
        "select rule_id, cell_id, scope from workflow.findings where cell_id = $1"
        " and year = $2 and status = 'open' and mode = $3 and severity = any($4::text[])"
        " order by rule_id, scope",
        cell_id,
        year,
        Mode.enforce,
        list(severities),
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def proposed_case(conn: Connection, proposal_key: str) -> Case | None:
    """The case a policy proposed under `proposal_key` (policy, cell, year), if any."""
    row = await conn.fetchrow(
        f"select {_COLUMNS} from workflow.cases where proposal_key = $1", proposal_key
    )
    return to_case(row) if row else None


async def any_open(conn: Connection, refs: Sequence[FindingRef]) -> bool:
    """Whether any of the findings `refs` is open, as this service last heard of it."""
    found = await conn.fetchval(
        "select exists (select 1 from workflow.findings f join unnest($1::text[], $2::text[],"
        " $3::text[]) as r(rule_id, cell_id, scope) using (rule_id, cell_id, scope)"
        " where f.status = 'open')",
        [r.rule_id for r in refs],
        [r.cell_id for r in refs],
        [r.scope for r in refs],
    )
    return bool(found)


async def org_exists(conn: Connection, org_id: str) -> bool:
    """Whether the org is registered, as this service learned it."""
    found = await conn.fetchval("select 1 from workflow.orgs where org_id = $1", org_id)
    return found is not None


async def open_case_of(
    conn: Connection, cell_id: str, kind: str, year: int, final: list[str]
) -> str | None:
    """The id of a case of the cell, kind and year not in one of the `final` states, if any."""
    found: str | None = await conn.fetchval(
        "select id from workflow.cases where cell_id = $1 and kind = $2 and year = $3"
        " and state <> all($4::text[]) order by created_at limit 1",
        cell_id,
        kind,
        year,
        final,
    )
    return found


async def cell_org(conn: Connection, cell_id: str) -> str | None:
    """The org the cell is registered under, as this service learned it."""
    org_id: str | None = await conn.fetchval(
        "select org_id from workflow.cells where cell_id = $1", cell_id
    )
    return org_id


async def keep_cell(conn: Connection, event: CellRegisteredEvent) -> None:
    """Remember the cell's organisation, and move every case of the cell there: the latest
    registration wins, as in the rules service, so a cell moved to another org takes its cases
    (and who reaches them) along. An older registration arriving late changes nothing."""
    data = event.data
    if await conn.fetchval(_KEEP_CELL, data.cell_id, data.org_id, event.time, event.id):
        await conn.execute(
            "update workflow.cases set org_id = $2"
            " where cell_id = $1 and org_id is distinct from $2",
            data.cell_id,
            data.org_id,
        )


async def keep_org(conn: Connection, event: OrgRegisteredEvent) -> None:
    """Remember where the organisation sits in the tree (latest registration wins)."""
    data = event.data
    await conn.execute(_KEEP_ORG, data.org_id, data.parent_id, event.time, event.id)


class Due(msgspec.Struct, frozen=True):
    """A case whose running deadline has passed and is not marked yet."""

    case_id: str
    cell_id: str
    org_id: str | None
    state: str
    deadline: DeadlineKind
    due: date


_DUE = """
select id, cell_id, org_id, state, deadline_kind, inspection_due, remediation_due
from workflow.cases
where deadline_at <= $1
  and ((deadline_kind = 'inspection' and not inspection_overdue)
       or (deadline_kind = 'remediation' and not remediation_overdue))
order by deadline_at
limit $2
for update skip locked
"""


async def due_cases(conn: Connection, now: datetime, batch: int) -> list[Due]:
    """Up to `batch` cases whose running deadline passed by `now`, not yet marked, each locked
    for this transaction (replicas polling side by side take different ones)."""
    rows = await conn.fetch(_DUE, now, batch)
    return [
        Due(
            r["id"],
            r["cell_id"],
            r["org_id"],
            r["state"],
            DeadlineKind(r["deadline_kind"]),
            r[f"{r['deadline_kind']}_due"],
        )
        for r in rows
    ]


async def flag_overdue(conn: Connection, case_id: str, deadline: DeadlineKind) -> None:
    """Flag the case's `deadline` as passed, so it is announced once."""
    column = {DeadlineKind.inspection: "inspection_overdue",
              DeadlineKind.remediation: "remediation_overdue"}[deadline]  # fmt: skip
    await conn.execute(f"update workflow.cases set {column} = true where id = $1", case_id)
