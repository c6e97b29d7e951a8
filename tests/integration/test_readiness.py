"""`/ready` says whether each service can do its work: a background worker that died is unready."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from services.infra.lifespan import Workers
from tests.waiting import eventually


async def _kill_the_outbox_relay(client: AsyncTestClient) -> tuple[int, bool, list[str]]:
    assert (await client.get("/ready")).status_code == 200
    workers: Workers = client.app.state.workers
    relay = workers.tasks[0]  # started first by both services
    relay.get_loop().call_soon_threadsafe(relay.cancel)  # the app runs in its own loop

    async def readiness() -> tuple[int, bool, list[str]]:
        response = await client.get("/ready")
        body = response.json()
        return response.status_code, body["background"], body["stopped"]

    return await eventually(readiness, lambda answer: answer[0] == 503)


async def test_a_dead_worker_makes_the_rules_service_unready(rules: AsyncTestClient) -> None:
    assert await _kill_the_outbox_relay(rules) == (503, False, ["outbox-relay"])


async def test_a_dead_worker_makes_the_workflow_service_unready(
    workflow: AsyncTestClient,
) -> None:
    assert await _kill_the_outbox_relay(workflow) == (503, False, ["outbox-relay"])
