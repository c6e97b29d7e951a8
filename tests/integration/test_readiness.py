"""`/ready` says whether each service can do its work: a background worker that died is unready."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import nats
import psutil
import pytest
from litestar.testing import AsyncTestClient

from services.contracts.subjects import event_subject
from services.dev.servers import Servers
from services.infra.lifespan import Workers
from services.rules.app import create_app
from services.rules.settings import RulesSettings
from tests.conftest import ROOT
from tests.factories import cell_registered, dumps
from tests.tokens import AUTH
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


@contextlib.contextmanager
def frozen(pids: list[int]) -> Iterator[None]:
    """The processes stopped (SIGSTOP) for the block, as a hung server would be; then resumed."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def _postgres_pids(folder: Path) -> list[int]:
    main = int((folder / "postgres" / "postmaster.pid").read_text().split()[0])
    return [main, *(child.pid for child in psutil.Process(main).children(recursive=True))]


def _nats_pid(folder: Path) -> int:
    [ports] = (folder / "nats" / "ports").glob("*.ports")
    return int(ports.stem.rsplit("_", 1)[1])


@pytest.fixture
def own_servers(tmp_path: Path) -> Iterator[tuple[Servers, Path]]:
    """Servers of this test's own, embedded whatever the environment says: frozen by the test,
    they must belong to nobody else."""
    folder = ROOT / ".chibo" / f"test-frozen-{os.getpid()}"
    with Servers(folder, database="chibo_frozen", throwaway=True, environment=False) as servers:
        yield servers, folder


@pytest.mark.parametrize("dependency", ["postgres", "nats"])
async def test_ready_answers_quickly_and_names_a_frozen_dependency(
    own_servers: tuple[Servers, Path], dependency: str
) -> None:
    servers, folder = own_servers
    settings = RulesSettings(
        database_url=servers.database_url, nats_url=servers.nats_url, auth=AUTH
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.get("/ready")).status_code == 200
        pids = _postgres_pids(folder) if dependency == "postgres" else [_nats_pid(folder)]
        with frozen(pids):
            started = time.monotonic()
            answer = await client.get("/ready")
            took = time.monotonic() - started
        assert answer.status_code == 503
        assert answer.json()[dependency] is False
        assert took < 3  # the probe's own one-second bound, not a speed claim: it must not hang
        await eventually(lambda: client.get("/ready"), lambda r: r.status_code == 200)
        # And the service still takes what arrives on NATS: the answer to an abandoned ping
        # used to kill nats-py's read loop (a PONG for a cancelled future), leaving a client
        # that looks connected and hears nothing.
        nc = await nats.connect(servers.nats_url)
        try:
            event = cell_registered(f"cb-after-{dependency}", org_id="xa-1")
            await nc.jetstream().publish(event_subject("cell.registered"), dumps(event))
        finally:
            await nc.close()
        db = await asyncpg.connect(servers.database_url)
        try:
            stored = "select count(*) from rules.cells where cell_id = $1"
            await eventually(lambda: db.fetchval(stored, event["subject"]), (1).__eq__)
        finally:
            await db.close()
