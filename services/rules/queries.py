"""The read side of the rules service: findings and cells as the API lists them."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg
import msgspec

from services.contracts.findings import Finding, FindingStatus
from services.infra.auth.scope import Reach, subtree
from services.infra.database import Connection
from services.rules.findings_repository import COLUMNS, finding_of

# Every org below `$1` (itself included), however deep the tree.
SUBTREE = f"with recursive {subtree('rules')}\n"


def with_reach(org_param: str) -> str:
    """`SUBTREE` and `reach(org_id)`: every org below the caller's org `org_param`, if any."""
    return f"with recursive {subtree('rules')}, {subtree('rules', org_param, 'reach')}\n"


def in_reach(cell: str, org_param: str, cell_param: str) -> str:
    """A condition: `cell` is below the caller's org (`with_reach`) or is the caller's cell."""
    return (
        f"({org_param}::text is null or {cell} in (select c.cell_id from rules.cells c"
        f" join reach r on c.org_id = r.org_id))"
        f" and ({cell_param}::text is null or {cell} = {cell_param})"
    )


class FindingRecord(msgspec.Struct, kw_only=True):
    """A stored finding: the judgment, and its lifecycle."""

    id: int
    finding: Finding
    revision: int
    pack_version: str
    opened_at: datetime
    resolved_at: datetime | None
    changed_at: datetime


class FindingFilter(msgspec.Struct, kw_only=True):
    """Which findings to list; every field narrows the list, None leaves it open."""

    cell_id: str | None = None
    org_id: str | None = None
    # The caller's reach (services.infra.auth.scope.Reach): both None for an admin.
    reach_org: str | None = None
    reach_cell: str | None = None
    rule_id: str | None = None
    status: FindingStatus | None = None
    scope: str | None = None
    since: datetime | None = None
    after: int = 0
    limit: int = 100


class CellRecord(msgspec.Struct, kw_only=True):
    """A registered cell with how many findings are open on it."""

    cell_id: str
    name: str
    org_id: str
    cell_type: str
    has_committee: bool
    established_on: date
    dissolved_on: date | None
    open_findings: int


async def list_findings(conn: Connection, f: FindingFilter) -> list[FindingRecord]:
    """Findings matching `f`, by id, after the cursor `f.after`."""
    rows = await conn.fetch(
        with_reach("$9")
        + f"""select id, {COLUMNS}, revision, pack_version, opened_at, resolved_at, changed_at
        from rules.findings fi
        where id > $2
          and ($3::text is null or cell_id = $3)
          and ($4::text is null or rule_id = $4)
          and ($5::text is null or status = $5)
          and ($6::text is null or scope = $6)
          and ($7::timestamptz is null or changed_at >= $7)
          and ($1::text is null or cell_id in (
              select c.cell_id from rules.cells c join subtree s on c.org_id = s.org_id))
          and {in_reach("cell_id", "$9", "$10")}
        order by id limit $8""",
        f.org_id,
        f.after,
        f.cell_id,
        f.rule_id,
        f.status.value if f.status else None,
        f.scope,
        f.since,
        f.limit,
        f.reach_org,
        f.reach_cell,
    )
    return [_record(r) for r in rows]


async def get_finding(conn: Connection, finding_id: int) -> FindingRecord | None:
    """One stored finding by id."""
    row = await conn.fetchrow(
        f"select id, {COLUMNS}, revision, pack_version, opened_at, resolved_at, changed_at"
        " from rules.findings where id = $1",
        finding_id,
    )
    return None if row is None else _record(row)


def _record(row: asyncpg.Record) -> FindingRecord:
    return FindingRecord(
        id=row["id"],
        finding=finding_of(row),
        revision=row["revision"],
        pack_version=row["pack_version"],
        opened_at=row["opened_at"],
        resolved_at=row["resolved_at"],
        changed_at=row["changed_at"],
    )


async def list_cells(
    conn: Connection, org_id: str | None, after: str, limit: int, reach: Reach
) -> list[CellRecord]:
    """Registered cells (under `org_id` when given) within `reach`, by id, after `after`."""
    rows = await conn.fetch(
        with_reach("$4")
        + f"""select c.cell_id, c.name, c.org_id, c.cell_type, c.has_committee,
               c.established_on, c.dissolved_on,
               (select count(*) from rules.findings f
                 where f.cell_id = c.cell_id and f.status = 'open') as open_findings
        from rules.cells c
        where c.cell_id > $2
          and ($1::text is null or c.org_id in (select org_id from subtree))
          and {in_reach("c.cell_id", "$4", "$5")}
        order by c.cell_id limit $3""",
        org_id,
        after,
        limit,
        reach.org,
        reach.cell,
    )
    return [CellRecord(**dict(r)) for r in rows]


async def cells_under(conn: Connection, org_id: str) -> list[str]:
    """Ids of every registered cell under `org_id`, however deep."""
    rows = await conn.fetch(
        SUBTREE + "select c.cell_id from rules.cells c join subtree s on c.org_id = s.org_id"
        " order by c.cell_id",
        org_id,
    )
    return [r["cell_id"] for r in rows]


async def org_exists(conn: Connection, org_id: str) -> bool:
    """Whether an org is registered, or at least has cells registered under it."""
    return bool(
        await conn.fetchval(
            "select exists (select 1 from rules.orgs where org_id = $1)"
            " or exists (select 1 from rules.cells where org_id = $1)",
            org_id,
        )
    )
