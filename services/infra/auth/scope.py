"""Which organisations and cells a caller reaches, following the org tree to any depth.

Both services keep the tree in their own schema (`<schema>.orgs (org_id, parent_id)` and
`<schema>.cells (cell_id, org_id)`), so each question takes the schema to ask.
"""

from __future__ import annotations

from typing import Literal, Protocol

import msgspec

from services.infra.database import Connection
from services.infra.errors import ForbiddenError

Schema = Literal["rules", "workflow"]


class Scoped(Protocol):
    """Whoever has a scope: verified claims, or a service's view of its caller."""

    @property
    def sees_all(self) -> bool:
        """Admins reach everything."""

    @property
    def org(self) -> str | None:
        """The org whose subtree the caller reaches."""

    @property
    def cell(self) -> str | None:
        """The one cell the caller reaches."""


def subtree(schema: Schema, param: str = "$1", name: str = "subtree") -> str:
    """A recursive CTE `name(org_id)`: the org `param` and every org below it, however deep."""
    return f"""{name}(org_id) as (
    select {param}::text
    union
    select o.org_id from {schema}.orgs o join {name} s on o.parent_id = s.org_id
)"""


def ancestors(schema: Schema, param: str) -> str:
    """A recursive CTE `ancestors(org_id)`: every org above the org `param` (cycles end it)."""
    return f"""ancestors(org_id) as (
    select parent_id from {schema}.orgs where org_id = {param}::text and parent_id is not null
    union
    select o.parent_id from {schema}.orgs o join ancestors a on o.org_id = a.org_id
    where o.parent_id is not null
)"""


class Reach(msgspec.Struct, frozen=True):
    """What a list may show: everything, or cells under `org`, or the one `cell`."""

    org: str | None
    cell: str | None


def reach(claims: Scoped) -> Reach:
    """The caller's reach as list filters (both None: everything, for admins only)."""
    if claims.sees_all:
        return Reach(None, None)
    if claims.org is None and claims.cell is None:
        raise ForbiddenError("this token reaches no organisation or cell")
    return Reach(claims.org, claims.cell)


async def org_visible(conn: Connection, schema: Schema, claims: Scoped, org_id: str) -> bool:
    """Whether `org_id` is the caller's org or below it (a cell's secretary reaches no org)."""
    if claims.sees_all:
        return True
    if claims.org is None:
        return False
    # Walk up from the org asked about: its ancestors are few, the caller's subtree may be many.
    return bool(
        await conn.fetchval(
            f"with recursive {ancestors(schema, '$2')}"
            " select $1::text = $2::text or exists (select 1 from ancestors where org_id = $1)",
            claims.org,
            org_id,
        )
    )


async def cell_visible(conn: Connection, schema: Schema, claims: Scoped, cell_id: str) -> bool:
    """Whether the cell is the caller's own or registered under the caller's org."""
    if claims.sees_all:
        return True
    if claims.cell is not None:
        return cell_id == claims.cell
    if claims.org is None:
        return False
    return bool(
        await conn.fetchval(
            f"with recursive {subtree(schema)} select exists (select 1 from {schema}.cells c"
            " join subtree s on c.org_id = s.org_id where c.cell_id = $2)",
            claims.org,
            cell_id,
        )
    )
