"""Workflow transitions per second and p50/p99 latency at a fixed concurrency, over HTTP.

    python -m bench.workflow_bench --concurrency 32 --per-worker 300

Starts PostgreSQL and NATS (embedded unless DATABASE_URL / NATS_URL are set), the workflow
service as `chibo serve workflow`, and beside it a bare Litestar endpoint doing one PostgreSQL
round trip, so the figures can be read against a same-run baseline. Each worker owns one case,
brought to `remediation_planned`, and fires `report_progress` on it (a full transition: row
update guarded by the version, audit row, outbox row, one commit). `measure()` is what the
`python -m bench` table calls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import msgspec
import uvicorn
from litestar import Litestar, get

from bench.http_load import Connection, Figures, run
from services.contracts.roles import Role
from services.dev.servers import Servers, free_port
from services.infra.auth import AuthSettings
from services.infra.auth.tokens import mint

DATA = Path(".chibo/bench-workflow")
AUTH = AuthSettings(key="bench-key-only-for-benchmarks-0123456789")
INSPECTOR, SECRETARY = Role.inspector, Role.secretary
STEPS: list[tuple[str, Role, dict[str, object]]] = [
    ("start", INSPECTOR, {"decision_ref": "1-QĐ", "team": [{"name": "A", "role": "leader"}],
                          "started_on": "2025-03-03"}),
    ("submit_self_report", SECRETARY, {"self_report": "Báo cáo"}),
    ("verify", INSPECTOR, {}),
    ("conclude", INSPECTOR, {"conclusion": "Còn hạn chế", "shortcomings": [{"text": "thiếu"}],
                             "remediation_due": "2025-12-31"}),
    ("submit_plan", SECRETARY, {"actions": [{"text": "bù", "owner": "bt", "due": "2025-12-01"}]}),
]  # fmt: skip


class Measurement(msgspec.Struct, frozen=True):
    """Transitions beside the one-round-trip baseline, measured in the same run."""

    concurrency: int
    transitions: Figures
    baseline: Figures


def baseline_app(database_url: str) -> Litestar:
    """A bare Litestar endpoint doing one PostgreSQL round trip: the floor to compare against."""
    pools: list[asyncpg.Pool] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pools.append(await asyncpg.create_pool(database_url, min_size=2, max_size=40))
        yield
        await pools[0].close()

    @get("/baseline")
    async def baseline() -> dict[str, int]:
        """One round trip."""
        return {"value": await pools[0].fetchval("select 1")}

    return Litestar([baseline], lifespan=[lifespan])


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url}: not ready within {timeout}s")


@contextlib.contextmanager
def _servers(infra: Servers, concurrency: int) -> Iterator[tuple[int, int]]:
    workflow_port, baseline_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": infra.database_url,
        "NATS_URL": infra.nats_url,
        "CHIBO_AUTH_KEY": AUTH.key,
        "CHIBO_WORKFLOW_PORT": str(workflow_port),
        "CHIBO_WORKFLOW_LOG_LEVEL": "warning",
        "CHIBO_WORKFLOW_POOL_SIZE": str(concurrency + 4),
    }
    command = [sys.executable, "-m", "bench.workflow_bench"]
    processes = [
        subprocess.Popen([sys.executable, "-m", "services.cli", "serve", "workflow"], env=env),
        subprocess.Popen([*command, "--serve-baseline", str(baseline_port)], env=env),
    ]
    try:
        _wait(f"http://127.0.0.1:{workflow_port}/ready", processes[0])
        _wait(f"http://127.0.0.1:{baseline_port}/baseline", processes[1])
        yield workflow_port, baseline_port
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


def _token(role: Role, n: int) -> dict[str, str]:
    """The inspector of org `bench`, or the secretary of cell `bench-<n>`."""
    org, cell = ("bench", None) if role is Role.inspector else (None, f"bench-{n}")
    return {"Authorization": "Bearer " + mint(AUTH, role, sub=f"bench-{role}", org=org, cell=cell)}


async def _cases(port: int, count: int) -> list[str]:
    """Open `count` cases and bring each to `remediation_planned` (version 6)."""
    connection = await Connection.open("127.0.0.1", port)
    ids = []
    for n in range(count):
        body = {"cell_id": f"bench-{n}", "org_id": "bench", "year": 2025}
        status, raw = await connection.request("POST", "/cases", body, _token(INSPECTOR, n))
        assert status == 201, raw
        case_id = msgspec.json.decode(raw)["id"]
        for version, (trigger, who, payload) in enumerate(STEPS, start=1):
            fire = {"trigger": trigger, "expected_version": version, "payload": payload}
            status, raw = await connection.request(
                "POST", f"/cases/{case_id}/transitions", fire, _token(who, n)
            )
            assert status == 200, raw
        ids.append(case_id)
    connection.close()
    return ids


async def _load(
    workflow_port: int, baseline_port: int, concurrency: int, per_worker: int
) -> Measurement:
    ids = await _cases(workflow_port, concurrency)
    first = len(STEPS) + 1
    secretaries = [_token(SECRETARY, n) for n in range(concurrency)]

    def transition(worker: int, i: int) -> tuple[str, str, object, dict[str, str]]:
        body = {
            "trigger": "report_progress",
            "expected_version": first + i,
            "payload": {"progress": [{"action": 1, "percent": min(99, i)}]},
        }
        return "POST", f"/cases/{ids[worker]}/transitions", body, secretaries[worker]

    def round_trip(worker: int, i: int) -> tuple[str, str, object, dict[str, str]]:
        return "GET", "/baseline", None, {}

    baseline = await run("127.0.0.1", baseline_port, concurrency, per_worker, round_trip)
    transitions = await run("127.0.0.1", workflow_port, concurrency, per_worker, transition)
    return Measurement(concurrency=concurrency, transitions=transitions, baseline=baseline)


def measure(concurrency: int = 32, per_worker: int = 300) -> Measurement:
    """Run the servers, load both endpoints in turn, and return the figures."""
    with (
        Servers(DATA, database="chibo_bench", throwaway=True) as infra,
        _servers(infra, concurrency) as (workflow_port, baseline_port),
    ):
        return asyncio.run(_load(workflow_port, baseline_port, concurrency, per_worker))


def main(argv: list[str] | None = None) -> int:
    """Measure and print one table row per figure."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--per-worker", type=int, default=300)
    parser.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_baseline:
        app = baseline_app(os.environ["DATABASE_URL"])
        uvicorn.run(app, host="127.0.0.1", port=args.serve_baseline, log_level="warning")
        return 0
    result = measure(args.concurrency, args.per_worker)
    print(f"{'figure (concurrency ' + str(result.concurrency) + ')':<40}{'value':>12}")
    for label, figures in (("workflow transition", result.transitions),
                           ("baseline 1 PG round trip", result.baseline)):  # fmt: skip
        print(f"{label + ' per second':<40}{figures.per_second:>12}")
        print(f"{label + ' p50 (ms)':<40}{figures.p50_ms:>12}")
        print(f"{label + ' p99 (ms)':<40}{figures.p99_ms:>12}")
        print(f"{label + ' errors':<40}{figures.errors:>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
