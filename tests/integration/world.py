"""A small province for access tests: two communes, each with one grassroots org and its cells.

    tinh ─┬─ xa-a ── cs-a1 ── cells cb-a1, cb-a2
          └─ xa-b ── cs-b1 ── cell  cb-b1

Registered over NATS so both services learn the tree; each cell gets findings (no meetings
were held) and one inspection case opened by an admin.
"""

from __future__ import annotations

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from services.contracts.subjects import event_subject
from tests.factories import cell_registered, dumps, org_registered
from tests.tokens import ADMIN
from tests.waiting import eventually

ORGS = {"tinh": None, "xa-a": "tinh", "xa-b": "tinh", "cs-a1": "xa-a", "cs-b1": "xa-b"}
CELLS = {"cb-a1": "cs-a1", "cb-a2": "cs-a1", "cb-b1": "cs-b1"}


class World(msgspec.Struct, frozen=True):
    """Ids the tests address: a finding and a case of each of cb-a1 and cb-b1."""

    finding: dict[str, int]
    case: dict[str, str]


async def build_world(
    rules: AsyncTestClient, workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> World:
    """Register the tree and cells on NATS, wait until both services know them, open cases."""
    js = nc.jetstream()
    for org_id, parent in ORGS.items():
        await js.publish(event_subject("org.registered"), dumps(org_registered(org_id, parent)))
    for cell_id, org_id in CELLS.items():
        event = cell_registered(cell_id, org_id=org_id, established_on="2024-01-01")
        await js.publish(event_subject("cell.registered"), dumps(event))
    for table, key, ids in (
        ("rules.cells", "cell_id", list(CELLS)),
        ("workflow.cells", "cell_id", list(CELLS)),
        ("workflow.orgs", "org_id", list(ORGS)),
    ):
        await eventually(
            lambda t=table, k=key, i=ids: db.fetchval(
                f"select count(*) from {t} where {k} = any($1::text[])", i
            ),
            len(ids).__eq__,
        )
    finding = {}
    for cell_id in ("cb-a1", "cb-b1"):
        finding[cell_id] = await eventually(
            lambda c=cell_id: db.fetchval(
                "select min(id) from rules.findings where cell_id = $1", c
            ),
            lambda found: found is not None,
        )
    case = {}
    for cell_id in ("cb-a1", "cb-b1"):
        body = {"cell_id": cell_id, "org_id": CELLS[cell_id], "year": 2025}
        opened = await workflow.post("/cases", json=body, headers=ADMIN)
        assert opened.status_code == 201, opened.text
        case[cell_id] = opened.json()["id"]
    return World(finding=finding, case=case)
