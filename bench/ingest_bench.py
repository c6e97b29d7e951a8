"""Live throughput: events through ingest → evaluate → publish, beside raw JetStream fetch+ack.

    python -m bench.ingest_bench --meetings 50000

On one embedded PostgreSQL and NATS (started here, thrown away after), in the same run:
1. the baseline: the same messages fetched in batches and acked by a bare pull consumer, once
   with nats-py's fetch and once with the puller the service itself uses (services.infra.puller,
   three times faster here); the service's rate is reported against the faster of the two;
2. the rules service as a real process consuming them (already waiting in the stream, as for
   the baseline), storing the facts, re-judging the cells they touch and publishing the finding
   changes, timed from its first stored batch until the stream and outbox are empty;
3. the latency from publishing a meeting to receiving the finding it opens, at a steady pace.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import msgspec
import nats
from nats.js.api import ConsumerConfig

from bench.generate import events as synthetic_events
from services.contracts.subjects import EVENTS_STREAM, EVENTS_SUBJECTS, event_subject
from services.infra.embedded import Infrastructure
from services.infra.puller import Puller
from services.rules.settings import RulesSettings

DATA = Path(".chibo/bench")
Row = tuple[str, float, str, float, float]
_encode = msgspec.json.Encoder().encode
PUBLISH_CHUNK = 2000
# The raw baseline fetches batches as large as the service's.
CONSUMER_BATCH: int = next(
    f.default for f in msgspec.structs.fields(RulesSettings) if f.name == "consumer_batch"
)


def measure(meetings: int) -> list[Row]:
    """Run the three phases and return table rows (figure, baseline, ratio)."""
    with Infrastructure(DATA / "ingest-servers", database="bench_ingest", throwaway=True) as infra:
        return asyncio.run(_measure(infra.database_url, infra.nats_url, meetings))


async def _measure(database_url: str, nats_url: str, meetings: int) -> list[Row]:
    payloads = [(event_subject(e["type"]), _encode(e)) for e in synthetic_events(meetings, 7)]
    nats_py, lean = await _raw_rates(nats_url, payloads)
    raw = max(nats_py, lean)
    # Like the baseline, the service finds the whole stream waiting when it starts: the figure is
    # its sustained consumption rate, not the publisher's.
    await _prepare_stream(nats_url, payloads)
    service = _start_service(database_url, nats_url)
    try:
        rate = await _service_rate(database_url, nats_url, len(payloads))
        await _ready(service[1])
        p50, p99 = await _latencies(nats_url)
    finally:
        service[0].send_signal(signal.SIGINT)  # graceful for the service and a profiler alike
        service[0].wait(30)
    return [
        ("ingest→evaluate→publish (events/s)", rate, "JetStream fetch+ack (msg/s)", raw,
         rate / raw),
        ("raw fetch+ack, nats-py fetch (msg/s)", nats_py, "raw fetch+ack, Chibo puller", lean,
         nats_py / lean),
        ("finding published, p50 (ms)", p50, "target p99 (ms)", 1000.0, p50 / 1000),
        ("finding published, p99 (ms)", p99, "target p99 (ms)", 1000.0, p99 / 1000),
    ]  # fmt: skip


async def _prepare_stream(nats_url: str, payloads: list[tuple[str, bytes]]) -> None:
    nc = await nats.connect(nats_url)
    await nc.jetstream().add_stream(name=EVENTS_STREAM, subjects=[EVENTS_SUBJECTS])
    await _publish_all(nc, payloads)
    await nc.close()


async def _publish_all(nc: nats.NATS, payloads: list[tuple[str, bytes]], prefix: str = "") -> None:
    js = nc.jetstream()
    for start in range(0, len(payloads), PUBLISH_CHUNK):
        chunk = payloads[start : start + PUBLISH_CHUNK]
        await asyncio.gather(*(js.publish(prefix + s, p) for s, p in chunk))


async def _raw_rates(nats_url: str, payloads: list[tuple[str, bytes]]) -> tuple[float, float]:
    """Fetch+ack of the whole stream with nats-py's fetch, then with the service's own puller.

    The service consumes with `services.infra.puller`, which costs less per message than
    nats-py's fetch; the ratio is taken against the faster of the two, not the easier one.
    """
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(name="BENCH_RAW", subjects=["raw.>"])
    await _publish_all(nc, payloads, prefix="raw.")
    sub = await js.pull_subscribe("raw.>", durable="raw", config=ConsumerConfig(ack_wait=60))
    started, left = time.perf_counter(), len(payloads)
    while left:
        batch = await sub.fetch(500, timeout=5)
        for msg in batch:
            await msg.ack()
        left -= len(batch)
    nats_py = len(payloads) / (time.perf_counter() - started)
    await js.add_consumer("BENCH_RAW", ConsumerConfig(durable_name="lean", ack_wait=60))
    puller = Puller(nc, "BENCH_RAW", "lean")
    started, left = time.perf_counter(), len(payloads)
    while left:
        for msg in (batch := await puller.fetch(CONSUMER_BATCH, 5)):
            await msg.ack()
        left -= len(batch)
    lean = len(payloads) / (time.perf_counter() - started)
    await puller.close()
    await js.delete_stream("BENCH_RAW")
    await nc.close()
    return nats_py, lean


def _start_service(database_url: str, nats_url: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url, "NATS_URL": nats_url,
           "CHIBO_RULES_PORT": str(port), "CHIBO_RULES_LOG_LEVEL": "warning",
           # The service refuses to start without a token key; this run calls no guarded route.
           "CHIBO_AUTH_KEY": "bench-key-only-for-benchmarks-0123456789"}  # fmt: skip
    command = [sys.executable, "-m", "services.cli", "serve", "rules"]
    if os.environ.get("CHIBO_BENCH_PROFILE"):  # e.g. py-spy record -o profile.svg --
        command = [*os.environ["CHIBO_BENCH_PROFILE"].split(), *command]
    process = subprocess.Popen(
        command, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


async def _ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            try:
                if (await client.get(url + "/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the rules service did not become ready")


async def _service_rate(database_url: str, nats_url: str, total: int) -> float:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    db: asyncpg.Connection | None = None
    while db is None:  # the service creates the database schema as it starts
        try:
            db = await asyncpg.connect(database_url)
            await db.fetchval("select count(*) from rules.events")
        except (asyncpg.UndefinedTableError, OSError):
            db = None
            await asyncio.sleep(0.01)
    # Timed from the first stored batch to the last published finding.
    stored = 0
    while not stored:
        stored = await db.fetchval("select count(*) from rules.events")
    started = time.perf_counter()
    while True:
        info = await js.consumer_info(EVENTS_STREAM, "rules-ingest")
        idle = not info.num_pending and not info.num_ack_pending
        if idle and not await db.fetchval("select count(*) from rules.outbox"):
            break
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - started
    await db.close()
    await nc.close()
    return (total - stored) / elapsed


def _short_meetings(count: int) -> Iterator[tuple[str, bytes]]:
    held = datetime(2025, 11, 3, 12, tzinfo=UTC)
    cell = {"cell_id": "bench-latency", "name": "Chi bộ đo", "org_id": "bench",
            "cell_type": "urban", "has_committee": False, "established_on": "2020-01-01",
            "dissolved_on": None}  # fmt: skip
    yield event_subject("cell.registered"), _encode(_event("lat-cell", "cell.registered", cell))
    for i in range(count):
        data = {"meeting_id": f"lat-{i}", "cell_id": "bench-latency", "kind": "regular",
                "held_at": (held + timedelta(minutes=i)).isoformat(), "duration_minutes": 30,
                "includes_thematic": False, "members_total": 10, "members_exempt": 0,
                "members_present": 10, "absences": [], "topic_groups": [],
                "criticism_held": True, "hcm_study": True}  # fmt: skip
        yield event_subject("meeting.held"), _encode(_event(f"lat-{i}", "meeting.held", data))


def _event(event_id: str, kind: str, data: dict[str, object]) -> dict[str, object]:
    return {"specversion": "1.0", "id": event_id, "source": "bench", "type": kind,
            "time": "2025-11-04T00:00:00Z", "subject": "bench-latency", "data": data}  # fmt: skip


async def _latencies(
    nats_url: str, count: int = 400, per_second: float = 200.0
) -> tuple[float, float]:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    sent: dict[str, float] = {}
    received: dict[str, float] = {}

    async def on_finding(msg: nats.aio.msg.Msg) -> None:
        scope = msgspec.json.decode(msg.data)["scope"]
        if scope.startswith("meeting/lat-"):
            received.setdefault(scope.removeprefix("meeting/"), time.perf_counter())

    await nc.subscribe("chibo.findings.opened", cb=on_finding)
    messages = list(_short_meetings(count))
    await js.publish(*messages[0])
    for subject, payload in messages[1:]:
        meeting_id = msgspec.json.decode(payload)["data"]["meeting_id"]
        sent[meeting_id] = time.perf_counter()
        await js.publish(subject, payload)
        await asyncio.sleep(1 / per_second)
    for _ in range(500):
        if len(received) == len(sent):
            break
        await asyncio.sleep(0.02)
    await nc.close()
    delays = sorted((received[m] - sent[m]) * 1000 for m in sent if m in received)
    if len(delays) < len(sent):
        raise RuntimeError(f"only {len(delays)} of {len(sent)} findings arrived")
    return delays[len(delays) // 2], delays[int(len(delays) * 0.99) - 1]


def main(argv: list[str] | None = None) -> int:
    """Print the three figures beside their baselines."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_bench")
    parser.add_argument("--meetings", type=int, default=50_000)
    args = parser.parse_args(argv)
    for name, value, base_name, base, ratio in measure(args.meetings):
        print(f"{name:<40} {value:>12.1f}   {base_name:<30} {base:>12.1f}   {ratio:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
