"""The org page and the case page at 8 concurrent users, beside the API calls each page makes,
replayed alone in the same run.

    python -m bench.pages_bench --cells 2000

On embedded PostgreSQL and NATS servers of its own (thrown away after), an org of `--cells`
cells in ten districts, each with a year of meetings (a regular meeting most months, some
months missed so there are findings, thematic ones most quarters), is stored through the rules
service's own `store()`; the rules, workflow and pages services then run as processes, the
rules service judging every cell as it starts, the workflow service learning the orgs and cells
over NATS. Cases are opened for one cell in ten over HTTP, half of them moved through a few
transitions so a case page has a timeline.

Each page is first built once by the pages service's own code in this process, recording the
API calls it makes (path, query, and which calls had answered before each began); then, at the
same concurrency, the page is loaded through the pages service (signed in with the session
cookie), and the recorded calls are replayed straight to the APIs with the same token, each
call starting once the calls that had answered before it did have answered again. The ratio of
the two is what the pages service adds to the APIs' cost. `measure()` is what the
`python -m bench` table calls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import nats

from bench.generate import FIRST_YEAR, meeting
from bench.http_load import Connection, Figures, timed
from bench.workflow_bench import STEPS, _wait
from services.contracts.calendar import VIETNAM
from services.contracts.codec import decode_event
from services.contracts.roles import Role
from services.contracts.subjects import FINDINGS_STREAM, event_subject
from services.dev.servers import Servers, free_port
from services.infra import database
from services.infra.auth import AuthSettings
from services.infra.auth.tokens import mint
from services.rules.service.ingest import store
from services.web.adapters.api import Apis, Params, Service
from services.web.domain.table import TableQuery
from services.web.service import cases, pages

DATA = Path(".chibo/bench-pages")
LOGS = Path(".chibo/bench-pages-logs")  # outside DATA, which is thrown away
AUTH = AuthSettings(key="bench-key-only-for-benchmarks-0123456789")
CONCURRENCY = 8
ROOT = "bench"
DISTRICTS = 10
CASE_EVERY = 10  # one cell in ten has a case
MOVED = 3  # transitions fired on every other case: start, self report, verify
STORE_BATCH = 20_000
READY_SECONDS = 600.0
Row = tuple[str, float, str, float, float]
# `services.web.entrypoints.deps.SESSION_COOKIE`, which holds the token; importing that module
# here would make Litestar's deprecation warnings errors in the suite that runs this bench.
SESSION_COOKIE = "chibo_session"
# Held meetings keep the rules but for their own absences (always excused): the findings come
# from the months missed, a few per cell, as a year of a real org has (not a dozen per cell,
# which the synthetic generator's noise gives and which would take minutes to settle).
CLEAN = {"duration_minutes": 120, "criticism_held": True, "hcm_study": True,
         "topic_groups": [1, 2, 3, 4, 5]}  # fmt: skip
_encode = msgspec.json.Encoder().encode


class Call(msgspec.Struct, frozen=True):
    """One API call a page made: to which service, the path with its query, and when."""

    service: str
    target: str
    started: float
    ended: float


class PageRun(msgspec.Struct, frozen=True):
    """A page loaded through the pages service beside its API calls replayed alone."""

    path: str
    calls: list[Call]
    page: Figures
    apis: Figures

    @property
    def ratio_p50(self) -> float:
        return self.page.p50_ms / self.apis.p50_ms

    @property
    def ratio_p95(self) -> float:
        return self.page.p95_ms / self.apis.p95_ms


class Measurement(msgspec.Struct, frozen=True):
    """Both pages, measured in the same run."""

    cells: int
    concurrency: int
    org: PageRun
    case: PageRun


def _months() -> list[int]:
    """The twelve months before this one (Vietnam time), counted from FIRST_YEAR's January:
    the page's year (this one) is judged up to last month, and no month before the cells were
    established is missed."""
    today = datetime.now(VIETNAM).date()
    this = (today.year - FIRST_YEAR) * 12 + today.month - 1
    return list(range(this - 12, this))


YEAR = datetime.now(VIETNAM).year


def history(cells: int, seed: int = 2025) -> list[dict[str, Any]]:
    """The orgs, the cells (established when their year of history starts) and a year of
    their meetings, as CloudEvents."""
    rng = random.Random(seed)
    months = _months()
    established = f"{FIRST_YEAR + months[0] // 12}-{months[0] % 12 + 1:02d}-01"
    found = [_event(f"o-{ROOT}", "org.registered", ROOT, _org(ROOT, None))]
    found += [
        _event(f"o-{ROOT}-{d}", "org.registered", f"{ROOT}-{d}", _org(f"{ROOT}-{d}", ROOT))
        for d in range(DISTRICTS)
    ]
    for n in range(cells):
        cell_id = f"{ROOT}-cell-{n:05d}"
        data = {"cell_id": cell_id, "name": f"Chi bộ {n}", "org_id": f"{ROOT}-{n % DISTRICTS}",
                "cell_type": "rural", "has_committee": False, "established_on": established,
                "dissolved_on": None}  # fmt: skip
        found.append(_event(f"c-{cell_id}", "cell.registered", cell_id, data))
        for month in months:
            kinds = ["regular"] if rng.random() < 0.93 else []  # some months missed
            if month % 3 == 1 and rng.random() < 0.85:
                kinds.append("thematic")
            for kind in kinds:
                meeting_id = f"{cell_id}-{month:02d}-{kind}"
                record = meeting(rng, meeting_id, cell_id, month, kind) | CLEAN
                absent = [a | {"excused": True} for a in record["absences"]]
                present = record["members_total"] - record["members_exempt"] - len(absent)
                record |= {"absences": absent, "members_present": present}
                found.append(_event(meeting_id, "meeting.held", cell_id, record))
    return found


def _org(org_id: str, parent: str | None) -> dict[str, Any]:
    return {"org_id": org_id, "name": f"Đảng bộ {org_id}", "parent_id": parent}


def _event(event_id: str, kind: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id, "source": "bench", "type": kind,
            "time": f"{YEAR}-01-01T00:00:00Z", "subject": subject, "data": data}  # fmt: skip


def measure(
    cells: int = 2000,
    per_worker: int = 25,
    servers: Servers | None = None,
    max_seconds: float = 120.0,
) -> Measurement:
    """Load the history, run the three services, and measure both pages beside their calls."""
    with contextlib.ExitStack() as stack:
        if servers is None:
            own = Servers(DATA, database="chibo_bench_pages", throwaway=True, environment=False)
            servers = stack.enter_context(own)
        events = history(cells)
        asyncio.run(_store(servers.database_url, events))
        urls = stack.enter_context(_services(servers))
        return asyncio.run(_measure(servers, urls, events, cells, per_worker, max_seconds))


async def _store(url: str, events: list[dict[str, Any]]) -> None:
    """The history into `rules.*` through the service's own bulk path (untimed)."""
    pool = await database.create_pool(url, min_size=1, max_size=2)
    try:
        await database.migrate(pool, "rules", "services.rules.migrations")
        for start in range(0, len(events), STORE_BATCH):
            chunk = events[start : start + STORE_BATCH]
            await store(pool, [decode_event(_encode(e)) for e in chunk])
        await pool.execute("analyze")
    finally:
        await pool.close()


@contextlib.contextmanager
def _services(servers: Servers) -> Iterator[dict[str, str]]:
    """The rules, workflow and pages services as processes; their base URLs by name."""
    ports = {name: free_port() for name in ("rules", "workflow", "web")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = {
        **os.environ,
        "DATABASE_URL": servers.database_url,
        "NATS_URL": servers.nats_url,
        "CHIBO_AUTH_KEY": AUTH.key,
        "CHIBO_WEB_RULES_URL": urls["rules"],
        "CHIBO_WEB_WORKFLOW_URL": urls["workflow"],
        **{f"CHIBO_{name.upper()}_PORT": str(port) for name, port in ports.items()},
        **{f"CHIBO_{name.upper()}_LOG_LEVEL": "warning" for name in ports},
        # A slow API is to be measured, not turned into an error page at the default 15 s.
        "CHIBO_WEB_API_TIMEOUT_SECONDS": "120",
    }
    LOGS.mkdir(parents=True, exist_ok=True)
    processes = {}
    try:
        for name in ports:
            with (LOGS / f"{name}.log").open("ab") as log:
                processes[name] = subprocess.Popen(
                    [sys.executable, "-m", "services.cli", "serve", name],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
        for name, process in processes.items():
            _wait(f"{urls[name]}/ready", process, READY_SECONDS)
        yield urls
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(30)


async def _measure(
    servers: Servers,
    urls: dict[str, str],
    events: list[dict[str, Any]],
    cells: int,
    per_worker: int,
    max_seconds: float,
) -> Measurement:
    await _registrations(servers, events)
    await _settled(servers, cells)
    token = mint(AUTH, Role.inspector, sub="bench-inspector", org=ROOT)
    case_id = await _cases(urls["workflow"], token, cells)
    apis = _Recording(urls["rules"], urls["workflow"], timeout=120)
    try:
        caller = apis.as_person(token)
        org_path = f"/orgs/{ROOT}?year={YEAR}"

        async def org() -> object:
            return await pages.org_page(caller, ROOT, YEAR, "year", TableQuery())

        async def case() -> object:
            return await cases.case_page(caller, case_id)

        org_calls = await apis.recorded(org)
        case_calls = await apis.recorded(case)
    finally:
        await apis.close()
    runs = []
    for path, calls in ((org_path, org_calls), (f"/cases/{case_id}", case_calls)):
        page = await _page_load(urls["web"], path, token, per_worker, max_seconds)
        replayed = await _replay(urls, calls, token, per_worker, max_seconds)
        runs.append(PageRun(path=path, calls=calls, page=page, apis=replayed))
    return Measurement(cells=cells, concurrency=CONCURRENCY, org=runs[0], case=runs[1])


async def _registrations(servers: Servers, events: list[dict[str, Any]]) -> None:
    """Orgs and cells published on NATS as sources do: the workflow service learns them there
    (the rules service, which has them already, takes them as redeliveries)."""
    nc = await nats.connect(servers.nats_url)
    try:
        js = nc.jetstream()
        registrations = [e for e in events if e["type"] != "meeting.held"]
        for start in range(0, len(registrations), 500):
            await asyncio.gather(
                *(
                    js.publish(
                        event_subject(e["type"]), _encode(e), headers={"Nats-Msg-Id": e["id"]}
                    )
                    for e in registrations[start : start + 500]
                )
            )
    finally:
        await nc.close()


async def _publish(js: Any, event: dict[str, Any]) -> None:
    await js.publish(
        event_subject(event["type"]), _encode(event), headers={"Nats-Msg-Id": event["id"]}
    )


async def _settled(servers: Servers, cells: int) -> None:
    """Wait until every cell is judged, every finding published and taken by the workflow
    service, and it knows every org and cell: nothing moves while the pages are measured."""
    conn = await asyncpg.connect(servers.database_url)
    nc = await nats.connect(servers.nats_url)
    deadline = time.monotonic() + READY_SECONDS
    noted = time.monotonic()
    try:
        while time.monotonic() < deadline:
            judged = await conn.fetchval(
                "select count(*) from rules.evaluation_state"
            ) and not await conn.fetchval("select count(*) from rules.outbox")
            known = await conn.fetchval(
                "select (select count(*) from workflow.cells) = $1"
                " and (select count(*) from workflow.orgs) = $2",
                cells,
                DISTRICTS + 1,
            )
            info = await nc.jetstream().consumer_info(FINDINGS_STREAM, "workflow-findings")
            if judged and known and not (info.num_pending or info.num_ack_pending):
                return
            if time.monotonic() > noted + 15:
                noted = time.monotonic()
                print(f"settling: judged {bool(judged)}, orgs and cells known {known},"
                      f" findings pending {info.num_pending}", file=sys.stderr)  # fmt: skip
            await asyncio.sleep(0.2)
        raise RuntimeError(f"the services had not settled within {READY_SECONDS:.0f} s")
    finally:
        await nc.close()
        await conn.close()


async def _cases(workflow_url: str, token: str, cells: int) -> str:
    """A case for one cell in ten: opened, or the one the findings policy proposed accepted;
    every other one moved through a few transitions. The id of the first case moved."""
    port = int(workflow_url.rsplit(":", 1)[1])
    connection = await Connection.open("127.0.0.1", port)
    moved: list[str] = []

    async def call(method: str, path: str, body: object, who: str) -> Any:
        status, raw = await connection.request(method, path, body, _bearer(who))
        if status not in (200, 201, 409):
            raise RuntimeError(f"{method} {path}: {status} {raw[:200]!r}")
        return status, msgspec.json.decode(raw)

    try:
        for n in range(0, cells, CASE_EVERY):
            cell_id = f"{ROOT}-cell-{n:05d}"
            body = {"cell_id": cell_id, "org_id": f"{ROOT}-{n % DISTRICTS}", "year": YEAR}
            status, case = await call("POST", "/cases", body, token)
            if status == 409:  # the findings policy proposed one already: accept it
                _, listed = await call("GET", f"/cases?cell_id={cell_id}&limit=1", None, token)
                case = listed["items"][0]
                fire = {"trigger": "accept", "expected_version": case["version"], "payload": {}}
                _, moved_on = await call("POST", f"/cases/{case['id']}/transitions", fire, token)
                case = case | {"version": moved_on["version"]}
            if (n // CASE_EVERY) % 2:
                continue
            case_id, version = case["id"], case["version"]
            for trigger, role, payload in STEPS[:MOVED]:
                who = token if role is Role.inspector else _secretary(cell_id)
                fire = {"trigger": trigger, "expected_version": version, "payload": payload}
                status, case = await call("POST", f"/cases/{case_id}/transitions", fire, who)
                if status != 200:
                    raise RuntimeError(f"{trigger} on {case_id}: {status} {case}")
                version = case["version"]
            moved.append(case_id)
    finally:
        connection.close()
    return moved[0]


def _secretary(cell_id: str) -> str:
    return mint(AUTH, Role.secretary, sub=f"secretary-{cell_id}", cell=cell_id)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class _Recording(Apis):
    """The pages service's API client, recording each call a page makes."""

    def __init__(self, rules_url: str, workflow_url: str, timeout: float) -> None:
        super().__init__(rules_url, workflow_url, timeout)
        self.log: list[Call] = []

    async def request(
        self,
        service: Service,
        method: str,
        path: str,
        token: str | None,
        *,
        params: Params | None = None,
        body: Any = None,
    ) -> Any:
        started = time.perf_counter()
        answer = await super().request(service, method, path, token, params=params, body=body)
        target = answer.request.url.raw_path.decode()
        self.log.append(Call(service, target, started, time.perf_counter()))
        return answer

    async def recorded(self, build: Callable[[], Awaitable[object]]) -> list[Call]:
        """The calls of one build of a page, after one build to warm up."""
        await build()
        self.log = []
        await build()
        calls, self.log = self.log, []
        return calls


async def _page_load(
    web_url: str, path: str, token: str, per_worker: int, max_seconds: float
) -> Figures:
    """`path` through the pages service, as a signed-in person's browser asks for it."""
    port = int(web_url.rsplit(":", 1)[1])
    headers = {"Cookie": f"{SESSION_COOKIE}={token}"}
    connections = [await Connection.open("127.0.0.1", port) for _ in range(CONCURRENCY)]

    async def load(worker: int, i: int) -> bool:
        status, _ = await connections[worker].request("GET", path, None, headers)
        return status == 200

    try:
        if (await timed(1, 1, load)).errors:
            raise RuntimeError(f"{path} did not answer 200")
        await timed(CONCURRENCY, 1, load)  # warm every connection and the server
        return await timed(CONCURRENCY, per_worker, load, max_seconds)
    finally:
        for connection in connections:
            connection.close()


async def _replay(
    urls: dict[str, str], calls: list[Call], token: str, per_worker: int, max_seconds: float
) -> Figures:
    """The page's calls straight to the APIs, each once the calls that had answered before it
    began (when the page made them) have answered; timed from the first start to the last end."""
    after = [[j for j, c in enumerate(calls) if c.ended <= call.started] for call in calls]
    ports = {name: int(urls[name].rsplit(":", 1)[1]) for name in ("rules", "workflow")}
    headers = _bearer(token)
    idle: list[dict[str, list[Connection]]] = [{s: [] for s in ports} for _ in range(CONCURRENCY)]

    async def replay(worker: int, i: int) -> bool:
        answered = [asyncio.Event() for _ in calls]
        statuses: list[int] = []

        async def one(n: int, call: Call) -> None:
            for before in after[n]:
                await answered[before].wait()
            pool, port = idle[worker][call.service], ports[call.service]
            connection = pool.pop() if pool else await Connection.open("127.0.0.1", port)
            status, _ = await connection.request("GET", call.target, None, headers)
            pool.append(connection)
            statuses.append(status)
            answered[n].set()

        await asyncio.gather(*(one(n, call) for n, call in enumerate(calls)))
        return all(status == 200 for status in statuses)

    try:
        await timed(CONCURRENCY, 1, replay)  # open the connections each worker needs
        return await timed(CONCURRENCY, per_worker, replay, max_seconds)
    finally:
        for pools in idle:
            for pool in pools.values():
                for connection in pool:
                    connection.close()


def rows(run: Measurement) -> list[Row]:
    """The table rows of both pages: p50 and p95 beside their API calls', p95 beside 300 ms."""
    found: list[Row] = []
    for name, page in (("org page", run.org), ("case page", run.case)):
        calls = f"{len(page.calls)} API calls"
        found += [
            (f"{name} p50 (ms), c={run.concurrency}", page.page.p50_ms,
             f"its {calls} p50", page.apis.p50_ms, page.ratio_p50),
            (f"{name} p95 (ms), c={run.concurrency}", page.page.p95_ms,
             f"its {calls} p95", page.apis.p95_ms, page.ratio_p95),
            (f"{name} p95 (ms) against the target", page.page.p95_ms,
             "target p95 (ms)", 300.0, page.page.p95_ms / 300),
        ]  # fmt: skip
    return found


def main(argv: list[str] | None = None) -> int:
    """Measure and print the rows."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.pages_bench", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--cells", type=int, default=2000, help="default: 2000")
    parser.add_argument("--per-worker", type=int, default=25, help="page loads per user")
    parser.add_argument("--calls", action="store_true", help="list each page's API calls")
    args = parser.parse_args(argv)
    if args.cells < DISTRICTS or args.cells > 99_999:
        parser.error(f"--cells must be between {DISTRICTS} and 99999")
    run = measure(args.cells, args.per_worker)
    print(f"{run.cells} cells; {run.org.page.requests} page loads per figure")
    for name, value, base_name, base, ratio in rows(run):
        print(f"{name:<40} {value:>10.1f}   {base_name:<24} {base:>10.1f}   {ratio:>6.2f}")
    for page in (run.org, run.case):
        if args.calls:
            print(f"\n{page.path} makes, alone:")
            for call in page.calls:
                print(
                    f"  {(call.ended - call.started) * 1000:>8.1f} ms  {call.service} {call.target}"
                )
        errors = page.page.errors + page.apis.errors
        if errors:
            print(f"{page.path}: {errors} answers were not 200", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
