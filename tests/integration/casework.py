"""Driving cases through the workflow API as inspectors and secretaries; what it published."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from httpx import Response
from litestar.testing import AsyncTestClient
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from services.contracts.roles import Role
from services.contracts.subjects import WORKFLOW_STREAM, event_subject
from tests.factories import cell_registered, dumps, org_registered
from tests.tokens import bearer
from tests.waiting import eventually

# Callers of the default case (cell cb-1 of org dk-xa-1): each a token scoped to reach it.
INSPECTOR = bearer(Role.inspector, org="dk-xa-1", sub="ubkt-nguyen")
SECRETARY = bearer(Role.secretary, cell="cb-1", sub="bt-tran")
ADMIN = bearer(Role.admin, sub="admin-le")

START = {
    "decision_ref": "15-QĐ/UBKT",
    "team": [{"name": "Nguyễn Văn A", "role": "leader"}, {"name": "Lê Thị B"}],
    "started_on": "2025-03-03",
}
SHORTCOMINGS = [
    {
        "text": "Không sinh hoạt thường kỳ tháng 2",
        "findings": [{"rule_id": "regular-meeting-monthly", "cell_id": "cb-1", "scope": "2025-02"}],
    },
    {"text": "Sinh hoạt chuyên đề chưa đủ nhóm chủ đề"},
]
PLAN = [
    {"text": "Sinh hoạt bù tháng 2", "owner": "bt-tran", "due": "2025-05-15"},
    {"text": "Chuyên đề nhóm 3", "owner": "pbt-hoang", "due": "2025-05-30"},
]


async def register(nc: Client, db: asyncpg.Connection, cells: dict[str, str] | None = None) -> None:
    """Register orgs and cells on NATS (cell -> org; by default cb-1 of dk-xa-1, as the default
    case names them) and wait until the workflow service knows them."""
    cells = cells or {"cb-1": "dk-xa-1"}
    js = nc.jetstream()
    for org_id in sorted(set(cells.values())):
        await js.publish(event_subject("org.registered"), dumps(org_registered(org_id)))
    for cell_id, org_id in cells.items():
        await js.publish(
            event_subject("cell.registered"), dumps(cell_registered(cell_id, org_id=org_id))
        )
    await eventually(
        lambda: db.fetchval(
            "select count(*) from workflow.cells where cell_id = any($1::text[])", list(cells)
        ),
        len(cells).__eq__,
    )


class Casework:
    """One case, moved through the API with the version it last read."""

    def __init__(self, client: AsyncTestClient, case_id: str, version: int = 1) -> None:
        self.client, self.id, self.version = client, case_id, version

    @classmethod
    async def open(cls, client: AsyncTestClient, **fields: Any) -> Casework:
        """Open an inspection case for cell `cb-1` of org `dk-xa-1` (fields override); another
        one may be open already."""
        body = {"cell_id": "cb-1", "org_id": "dk-xa-1", "year": 2025, "allow_another": True}
        body |= fields
        response = await client.post("/cases", json=body, headers=INSPECTOR)
        assert response.status_code == 201, response.text
        return cls(client, response.json()["id"])

    async def fire(
        self,
        trigger: str,
        payload: dict[str, Any] | None = None,
        *,
        who: dict[str, str] = INSPECTOR,
        comment: str = "",
        expect: int = 200,
    ) -> Response:
        """Fire `trigger` at the version last read; on 200 remember the new version."""
        body = {
            "trigger": trigger,
            "expected_version": self.version,
            "comment": comment,
            "payload": payload or {},
        }
        response = await self.client.post(f"/cases/{self.id}/transitions", json=body, headers=who)
        assert response.status_code == expect, response.text
        if expect == 200:
            self.version = response.json()["version"]
        return response

    async def to_verifying(self, note: str | None = None) -> None:
        """Start the inspection, take the cell's self-report and begin verifying it."""
        await self.fire("start", START)
        await self.fire("submit_self_report", {"self_report": "Báo cáo tự kiểm tra"}, who=SECRETARY)
        await self.fire("verify", {"verification_note": note} if note else None)

    async def detail(self, who: dict[str, str] = INSPECTOR) -> dict[str, Any]:
        """`GET /cases/{id}` as `who`."""
        response = await self.client.get(f"/cases/{self.id}", headers=who)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def trail(
        self, who: dict[str, str] = INSPECTOR
    ) -> list[tuple[str, str | None, str, int]]:
        """The audit trail as (trigger, from, to, version) rows, read as `who`."""
        return [
            (h["trigger"], h["from_state"], h["to_state"], h["version"])
            for h in (await self.detail(who))["history"]
        ]


async def published(nc: Client, count: int) -> list[tuple[str, str, dict[str, Any]]]:
    """Wait for `count` messages on the workflow stream: (subject, Nats-Msg-Id, body) each."""
    js = nc.jetstream()

    async def stored() -> int:
        try:
            return int((await js.stream_info(WORKFLOW_STREAM)).state.messages)
        except NotFoundError:
            return 0

    await eventually(stored, lambda n: n >= count)
    messages = []
    for sequence in range(1, await stored() + 1):
        msg = await js.get_msg(WORKFLOW_STREAM, sequence)
        msg_id = (msg.headers or {}).get("Nats-Msg-Id", "")
        messages.append((msg.subject, msg_id, msgspec.json.decode(msg.data or b"{}")))
    return messages
