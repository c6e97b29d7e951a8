"""The read side of the rules service: findings and cells as the API lists them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

import asyncpg
import msgspec

from services.contracts.calendar import vietnam_date
from services.contracts.findings import Finding, FindingStatus
from services.infra.auth.scope import Reach, subtree
from services.infra.database import Connection
from services.rules.adapters.findings import COLUMNS, finding_of
from services.rules.domain.score import Standing

# Every org below `$1` (itself included), however deep the tree.
SUBTREE = f"with recursive {subtree('rules')}\n"


class Where:
    """A `with recursive ... where ...` built from the filters given, and its arguments.

    Only the conditions asked for are written, so each combination of filters is its own
    statement, planned once for its shape: no `($n is null or ...)` that a generic plan would
    read as "maybe no filter at all" and answer with a scan.
    """

    def __init__(self) -> None:
        self.args: list[object] = []
        self.ctes: list[str] = []
        self.conditions: list[str] = []

    def arg(self, value: object) -> str:
        """The placeholder of a new argument `value`."""
        self.args.append(value)
        return f"${len(self.args)}"

    def equal(self, column: str, value: object) -> None:
        """`column = value`, unless value is None."""
        if value is not None:
            self.conditions.append(f"{column} = {self.arg(value)}")

    def under_org(self, cell: str, org_id: str | None, name: str = "subtree") -> None:
        """`cell` is registered under `org_id` (any depth), unless org_id is None."""
        if org_id is not None:
            self.ctes.append(subtree("rules", self.arg(org_id), name))
            self.conditions.append(
                f"{cell} in (select c.cell_id from rules.cells c join {name} s"
                " on c.org_id = s.org_id)"
            )

    def within(self, cell: str, reach: Reach) -> None:
        """`cell` is within the caller's reach: below their org, or their own cell."""
        self.under_org(cell, reach.org, "reach")
        self.equal(cell, reach.cell)

    def sql(self, select: str, rest: str) -> str:
        """`select` with the CTEs before it and the conditions after it, then `rest`."""
        ctes = f"with recursive {', '.join(self.ctes)}\n" if self.ctes else ""
        where = f" where {' and '.join(self.conditions)}" if self.conditions else ""
        return f"{ctes}{select}{where} {rest}"


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
    """A registered cell with how many findings are open on it, the Vietnam day of its
    latest regular meeting (None before its first) and, when a list is asked for a year, its
    standing that year (`score`)."""

    cell_id: str
    name: str
    org_id: str
    cell_type: str
    has_committee: bool
    established_on: date
    dissolved_on: date | None
    open_findings: int
    last_regular_meeting_on: date | None = None
    score: Standing | None = None


# A cell's columns as listed; the latest regular meeting comes from the index on
# (cell_id, held_at) of the meetings not retracted, one row per cell.
_CELL_COLUMNS = """c.cell_id, c.name, c.org_id, c.cell_type, c.has_committee,
               c.established_on, c.dissolved_on,
               (select count(*) from rules.findings f
                 where f.cell_id = c.cell_id and f.status = 'open') as open_findings,
               (select max(m.held_at) from rules.meetings m
                 where m.cell_id = c.cell_id and not m.retracted and m.kind = 'regular')
                 as last_regular_meeting"""


def _cell(row: asyncpg.Record) -> CellRecord:
    found = dict(row)
    last = found.pop("last_regular_meeting")
    return CellRecord(**found, last_regular_meeting_on=None if last is None else vietnam_date(last))


async def list_findings(conn: Connection, f: FindingFilter) -> list[FindingRecord]:
    """Findings matching `f`, by id, after the cursor `f.after`."""
    q = Where()
    q.conditions.append(f"id > {q.arg(f.after)}")
    q.equal("cell_id", f.cell_id)
    q.equal("rule_id", f.rule_id)
    q.equal("status", f.status.value if f.status else None)
    q.equal("scope", f.scope)
    if f.since is not None:
        q.conditions.append(f"changed_at >= {q.arg(f.since)}")
    q.under_org("cell_id", f.org_id)
    q.within("cell_id", Reach(org=f.reach_org, cell=f.reach_cell))
    select = (
        f"select id, {COLUMNS}, revision, pack_version, opened_at, resolved_at, changed_at"
        " from rules.findings"
    )
    rows = await conn.fetch(q.sql(select, f"order by id limit {q.arg(f.limit)}"), *q.args)
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
    conn: Connection,
    org_id: str | None,
    after: str,
    limit: int,
    reach: Reach,
    only: Collection[str] | None = None,
) -> list[CellRecord]:
    """Registered cells (under `org_id` and among `only` when given) within `reach`, by id,
    after `after`."""
    q = Where()
    q.conditions.append(f"c.cell_id > {q.arg(after)}")
    if only is not None:
        q.conditions.append(f"c.cell_id = any({q.arg(sorted(only))}::text[])")
    if org_id is not None:
        q.ctes.append(subtree("rules", q.arg(org_id)))
        q.conditions.append("c.org_id in (select org_id from subtree)")
    q.within("c.cell_id", reach)
    select = f"select {_CELL_COLUMNS} from rules.cells c"
    rows = await conn.fetch(q.sql(select, f"order by c.cell_id limit {q.arg(limit)}"), *q.args)
    return [_cell(r) for r in rows]


async def cell_record(conn: Connection, cell_id: str) -> CellRecord | None:
    """One registered cell with its open findings count; None if it is not registered."""
    row = await conn.fetchrow(
        f"select {_CELL_COLUMNS} from rules.cells c where c.cell_id = $1", cell_id
    )
    return None if row is None else _cell(row)


async def cells_under(conn: Connection, org_id: str) -> list[str]:
    """Ids of every registered cell under `org_id`, however deep."""
    rows = await conn.fetch(
        SUBTREE + "select c.cell_id from rules.cells c join subtree s on c.org_id = s.org_id"
        " order by c.cell_id",
        org_id,
    )
    return [r["cell_id"] for r in rows]


class OrgRef(msgspec.Struct, kw_only=True):
    """An org by id and name, with the registered cells under it, however deep."""

    org_id: str
    name: str
    cells: int


class OrgView(msgspec.Struct, kw_only=True):
    """One org in its tree: the orgs above it (from the top the caller reaches), those just
    below it, and its cells (directly under it, and under it at any depth)."""

    org_id: str
    name: str
    parent_id: str | None
    path: list[OrgRef]
    children: list[OrgRef]
    cells_here: int
    cells_under: int


_ORG_CELLS = """(select count(*) from rules.cells c
    where c.org_id in (with recursive {tree} select org_id from subtree))"""


async def org_view(conn: Connection, org_id: str, top: str | None) -> OrgView | None:
    """`org_id` with the path down to it from `top` (None: from its root), its children and
    its cell counts; None if the org is not registered."""
    org = await conn.fetchrow(
        "select org_id, name, parent_id from rules.orgs where org_id = $1", org_id
    )
    if org is None:
        return None
    counted = _ORG_CELLS.format(tree=subtree("rules", "o.org_id"))
    above = await conn.fetch(
        f"with recursive up(org_id, depth) as ("
        "  select parent_id, 1 from rules.orgs where org_id = $1 and parent_id is not null"
        "  union select o.parent_id, u.depth + 1 from rules.orgs o join up u on o.org_id = u.org_id"
        "  where o.parent_id is not null and u.depth < 64)"
        f" select o.org_id, o.name, {counted} as cells from up join rules.orgs o"
        " using (org_id) order by up.depth desc",
        org_id,
    )
    path = [OrgRef(**dict(r)) for r in above]
    if top is not None:
        ids = [ref.org_id for ref in path]
        path = path[ids.index(top) :] if top in ids else []
    children = await conn.fetch(
        f"select o.org_id, o.name, {counted} as cells from rules.orgs o"
        ' where o.parent_id = $1 order by o.name collate "C", o.org_id',
        org_id,
    )
    here = await conn.fetchval("select count(*) from rules.cells where org_id = $1", org_id)
    under = await conn.fetchval(
        SUBTREE + "select count(*) from rules.cells c join subtree s using (org_id)", org_id
    )
    return OrgView(
        org_id=org["org_id"],
        name=org["name"],
        parent_id=org["parent_id"],
        path=path,
        children=[OrgRef(**dict(r)) for r in children],
        cells_here=here,
        cells_under=under,
    )


async def root_orgs(conn: Connection) -> list[OrgRef]:
    """The orgs with no registered parent, with their cells."""
    counted = _ORG_CELLS.format(tree=subtree("rules", "o.org_id"))
    rows = await conn.fetch(
        f"select o.org_id, o.name, {counted} as cells from rules.orgs o"
        " where o.parent_id is null or not exists"
        " (select 1 from rules.orgs p where p.org_id = o.parent_id)"
        ' order by o.name collate "C", o.org_id'
    )
    return [OrgRef(**dict(r)) for r in rows]


async def org_exists(conn: Connection, org_id: str) -> bool:
    """Whether an org is registered, or at least has cells registered under it."""
    return bool(
        await conn.fetchval(
            "select exists (select 1 from rules.orgs where org_id = $1)"
            " or exists (select 1 from rules.cells where org_id = $1)",
            org_id,
        )
    )


async def first_root_and_cell(conn: Connection) -> tuple[str | None, str | None]:
    """The first root org and the first cell registered, by id (for development tokens)."""
    root = await conn.fetchval(
        "select org_id from rules.orgs where parent_id is null order by org_id limit 1"
    )
    cell = await conn.fetchval("select cell_id from rules.cells order by cell_id limit 1")
    return root, cell


class UnregisteredCell(msgspec.Struct, kw_only=True):
    """A cell that meetings name but no registration does: kept, judged once it registers."""

    cell_id: str
    meetings: int
    first_held_on: date
    last_held_on: date


class CellWithoutOrg(msgspec.Struct, kw_only=True):
    """A registered cell whose org is not registered: in no inspector's reach yet."""

    cell_id: str
    name: str
    org_id: str


class PendingCells(msgspec.Struct, kw_only=True):
    """What waits for a registration: cells only meetings name, and cells of unknown orgs."""

    unregistered: list[UnregisteredCell]
    without_org: list[CellWithoutOrg]


_VIETNAM_DAY = "((m.held_at at time zone 'UTC') + interval '7 hours')::date"


async def pending_cells(conn: Connection, limit: int) -> PendingCells:
    """At most `limit` of each kind, by cell id; meeting days in Vietnam time."""
    unregistered = await conn.fetch(
        "select m.cell_id, count(*) as meetings,"
        f" min({_VIETNAM_DAY}) as first_held_on, max({_VIETNAM_DAY}) as last_held_on"
        " from rules.meetings m where not m.retracted"
        " and not exists (select 1 from rules.cells c where c.cell_id = m.cell_id)"
        " group by m.cell_id order by m.cell_id limit $1",
        limit,
    )
    without = await conn.fetch(
        "select c.cell_id, c.name, c.org_id from rules.cells c"
        " where not exists (select 1 from rules.orgs o where o.org_id = c.org_id)"
        " order by c.cell_id limit $1",
        limit,
    )
    return PendingCells(
        unregistered=[UnregisteredCell(**dict(r)) for r in unregistered],
        without_org=[CellWithoutOrg(**dict(r)) for r in without],
    )
