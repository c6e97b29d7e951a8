"""The workflow service starts, opens a case and moves it."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from tests.integration.casework import START, Casework, published


async def test_a_case_opens_and_starts(workflow: AsyncTestClient, nc: Client) -> None:
    case = await Casework.open(workflow)
    await case.fire("start", START)
    assert await case.trail() == [
        ("open", None, "planned", 1),
        ("start", "planned", "in_progress", 2),
    ]
    messages = await published(nc, 2)
    assert [(s, i) for s, i, _ in messages] == [
        ("chibo.workflow.case.open", f"case-{case.id}-v1"),
        ("chibo.workflow.case.start", f"case-{case.id}-v2"),
    ]
