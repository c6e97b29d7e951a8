"""`chibo cluster`: deploy/'s layout on one machine — three NATS nodes in one JetStream cluster
whose streams keep three replicas, one PostgreSQL, two replicas of the rules and workflow
services and the pages — and Ctrl-C stops it all."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import nats
import nats.errors
import psutil
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from services.contracts.subjects import FINDINGS_STREAM
from services.infra.streams import STREAMS
from tests.conftest import ROOT
from tests.e2e.conftest import free_port
from tests.e2e.test_up import _token_lines, ready, status
from tests.factories import cell_registered, org_registered


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = ROOT / ".chibo" / f"test-cluster-{os.getpid()}"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def post(url: str, token: str, events: list[dict[str, object]]) -> int:
    request = urllib.request.Request(
        url + "/events",
        data=json.dumps(events).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


async def connect(url: str, user: str, password: str, refused: list[str]) -> Client:
    async def on_error(exc: Exception) -> None:
        refused.append(str(exc))

    return await nats.connect(
        url.split(","), user=user, password=password, error_cb=on_error,
        allow_reconnect=False, connect_timeout=5,
    )  # fmt: skip


async def anonymous(url: str) -> None:
    """Connect with no credentials at all (the connection closed whatever comes of it)."""
    nc = Client()
    try:
        await nc.connect(url.split(","), allow_reconnect=False, connect_timeout=2)
    finally:
        await nc.close()


async def stream_replicas(url: str, password: str) -> dict[str, tuple[int, int]]:
    """Per Chibo stream: its configured replicas, and how many nodes hold it now."""
    nc = await connect(url, "rules", password, [])
    try:
        js = nc.jetstream()
        found = {}
        for stream in STREAMS:
            info = await js.stream_info(stream.name)
            cluster = info.cluster
            held = 0 if cluster is None else 1 + len(cluster.replicas or [])
            found[stream.name] = (info.config.num_replicas or 1, held)
        return found
    finally:
        await nc.close()


async def allowed(
    url: str, user: str, password: str, act: Callable[[JetStreamContext], Awaitable[object]]
) -> bool:
    """Whether `user` may do `act`: it is done, or the server refuses it as a permissions
    violation (the request then goes unanswered)."""
    refused: list[str] = []
    nc = await connect(url, user, password, refused)
    try:
        await act(nc.jetstream(timeout=2))
        return True
    except nats.errors.TimeoutError:
        assert any("permissions violation" in r.lower() for r in refused), refused
        return False
    finally:
        await nc.close()


def permissions(url: str, passwords: dict[str, str]) -> dict[str, dict[str, bool]]:
    subjects = {"events": "chibo.events.meeting.held", "findings": "chibo.findings.opened",
                "workflow": "chibo.workflow.case.opened"}  # fmt: skip
    found: dict[str, dict[str, bool]] = {}
    acts: dict[str, Callable[[JetStreamContext], Awaitable[object]]] = {
        name: lambda js, subject=subject: js.publish(subject, b"{}")
        for name, subject in subjects.items()
    }
    # Reading a stream's state: who may not, may not purge or delete one either.
    acts["jetstream_api"] = lambda js: js.stream_info(STREAMS[0].name)
    for user in ("sources", "rules", "workflow"):
        found[user] = {
            name: asyncio.run(allowed(url, user, passwords[user], act))
            for name, act in acts.items()
        }
    return found


def test_cluster_runs_three_nats_nodes_and_two_replicas_of_each_service(data_dir: Path) -> None:
    ports = {"rules": free_port(), "workflow": free_port(), "web": free_port()}
    configured = ("DATABASE_URL", "NATS_URL", "CHIBO_AUTH_KEY")
    env = {k: v for k, v in os.environ.items() if k not in configured}
    env |= {f"CHIBO_{name.upper()}_PORT": str(port) for name, port in ports.items()}
    with subprocess.Popen(
        [sys.executable, "-m", "services.cli", "cluster", "--data-dir", str(data_dir)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as cluster:
        try:
            assert cluster.stdout is not None
            banner = [cluster.stdout.readline() for _ in range(11)]  # once every replica is up
            text = "".join(banner)
            assert "Chibo is up" in text, text
            apis = {
                line.split()[0]: line.split()[2] for line in banner if " API " in line
            }  # fmt: skip
            second = {name: port + 10 for name, port in ports.items()}
            assert apis == {
                "rules": f"http://127.0.0.1:{ports['rules']}",
                "rules-2": f"http://127.0.0.1:{second['rules']}",
                "workflow": f"http://127.0.0.1:{ports['workflow']}",
                "workflow-2": f"http://127.0.0.1:{second['workflow']}",
            }
            for url in [*apis.values(), f"http://127.0.0.1:{ports['web']}"]:
                assert ready(url) == 200, url
            [nats_line] = [line for line in banner if line.split()[:1] == ["nats"]]
            nats_url = nats_line.split()[1]
            assert len(nats_url.split(",")) == 3
            assert "(embedded: 3-node cluster, nats-server " in nats_line
            # Every client signs in as one of deploy/'s NATS users: none without a password.
            passwords = json.loads((data_dir / "cluster" / "nats-users.json").read_text())
            assert (data_dir / "cluster" / "nats-users.json").stat().st_mode & 0o077 == 0
            with pytest.raises(nats.errors.Error, match="Authorization Violation"):
                asyncio.run(anonymous(nats_url))
            # Every stream on all three nodes, as deploy/ runs them.
            held = asyncio.run(stream_replicas(nats_url, passwords["rules"]))
            assert held == dict.fromkeys((s.name for s in STREAMS), (3, 3)), held
            assert FINDINGS_STREAM in held
            # A source publishes events only, and cannot read, purge or delete a stream; each
            # service publishes its own subjects only (what else it needs, it did to start).
            assert permissions(nats_url, passwords) == {
                "sources": {"events": True, "findings": False, "workflow": False,
                            "jetstream_api": False},
                "rules": {"events": True, "findings": True, "workflow": False,
                          "jetstream_api": True},
                "workflow": {"events": False, "findings": False, "workflow": True,
                             "jetstream_api": True},
            }  # fmt: skip
            # One PostgreSQL behind both rules replicas: what one stores, the other reads.
            assert cluster.stdout.readline().strip().startswith("sign in")
            tokens = dict(_token_lines(cluster.stdout))
            events = [org_registered("xa-cl", None, id="o-cl"),
                      cell_registered("cb-cl", org_id="xa-cl", id="c-cl")]  # fmt: skip
            assert post(apis["rules-2"], tokens["admin"], events) == 202
            assert status(apis["rules"] + "/cells/cb-cl", tokens["admin"]) == 200
            servers = [p for p in psutil.Process(cluster.pid).children(recursive=True)]
            assert sum("serve" in p.cmdline() for p in servers) == 5
        finally:
            cluster.send_signal(signal.SIGINT)
            code = cluster.wait(90)
    assert code == 0
    left = [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(data_dir) in " ".join(p.info["cmdline"] or [])
    ]
    assert left == [], "every node and service stopped"
