"""Random histories through live ingestion: after every batch, the open findings equal a backtest.

Each history mixes two or three cells (one never registered), meetings near month and year ends
in offsets from -12:00 to +14:00, corrections that move a meeting in time, kind or cell,
retractions, stale records, redelivered ids and late or repeated registrations, shuffled and
fed in batches of one to four events. Between batches the driven clock sometimes moves on and
the scheduler catches up. The seeds are fixed, so a failure names its history.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.contracts.calendar import VIETNAM
from services.contracts.codec import decode_event
from services.dev.servers import Servers
from services.infra.database import create_pool, migrate
from services.rules.adapters.files import read_rules
from services.rules.metrics import Metrics
from services.rules.service.ingest import ingest
from services.rules.service.judging import Judge
from services.rules.service.scheduler import PeriodScheduler
from tests.clock import ManualClock
from tests.factories import dumps
from tests.integration.test_live_findings import backtest

RULES = Path(__file__).resolve().parents[2] / "rules"
HISTORIES = 60
OFFSETS = ("+07:00", "+14:00", "-05:00", "+00:00", "-12:00")
DAYS = ((12, 31), (12, 30), (1, 1), (1, 2), (11, 15), (3, 1), (2, 28), (7, 31))


def _held_at(rng: random.Random) -> str:
    month, day = rng.choice(DAYS)
    held = date(rng.choice((2023, 2024, 2025)), month, day)
    clock = rng.choice(("23:30", "00:30", "05:00", "19:30", "17:00"))
    return f"{held.isoformat()}T{clock}:00{rng.choice(OFFSETS)}"


def _history(rng: random.Random) -> list[dict[str, Any]]:
    cells = ["c1", "c2", "c3"][: rng.randint(2, 3)]
    events: list[dict[str, Any]] = []

    def envelope(kind: str, subject: str, data: dict[str, Any]) -> None:
        time = f"2026-01-0{rng.randint(1, 3)}T0{rng.randint(0, 3)}:00:00+07:00"  # ties happen
        events.append({"specversion": "1.0", "id": f"e{len(events)}", "source": "test",
                       "type": kind, "time": time, "subject": subject, "data": data})  # fmt: skip

    def held(meeting_id: str, cell: str) -> None:
        absences = [{"member_id": m, "excused": rng.random() < 0.6}
                    for m in ("d1", "d2") if rng.random() < 0.4]  # fmt: skip
        envelope("meeting.held", cell, {
            "meeting_id": meeting_id, "cell_id": cell,
            "kind": rng.choice(("regular", "regular", "thematic", "committee")),
            "held_at": _held_at(rng), "duration_minutes": rng.choice((60, 90, 120)),
            "includes_thematic": rng.random() < 0.3, "members_total": 10,
            "members_exempt": 0, "members_present": 10 - len(absences) - rng.randint(0, 2),
            "absences": absences, "topic_groups": rng.sample([1, 2, 3, 4, 5], rng.randint(0, 3)),
            "criticism_held": rng.random() < 0.8, "hcm_study": rng.random() < 0.5,
        })  # fmt: skip

    for cell in cells:
        for _ in range(rng.choice((1, 1, 2))):
            envelope("cell.registered", cell, {
                "cell_id": cell, "name": "Chi bộ", "org_id": "o1",
                "cell_type": rng.choice(("rural", "agency", "other")),
                "has_committee": rng.random() < 0.5,
                "established_on": rng.choice(("2022-12-01", "2023-06-15", "2023-12-31")),
                "dissolved_on": rng.choice((None, None, "2025-03-01")),
            })  # fmt: skip
    for number in range(rng.randint(2, 10)):
        meeting_id, cell = f"m{number}", rng.choice([*cells, "cx"])  # cx never registers
        held(meeting_id, cell)
        for _ in range(rng.choice((0, 0, 1, 2))):  # corrections, perhaps to another cell
            held(meeting_id, cell if rng.random() < 0.5 else rng.choice(cells))
        if rng.random() < 0.25:
            target = rng.choice([cell, *cells])
            envelope("meeting.retracted", target, {"meeting_id": meeting_id, "cell_id": target})
    events += [dict(rng.choice(events)) for _ in range(rng.randint(0, 2))]  # redeliveries
    rng.shuffle(events)
    return events


@pytest.fixture
async def pool(servers: Servers, clean: None) -> AsyncIterator[asyncpg.Pool]:
    connections = await create_pool(servers.database_url)
    await migrate(connections, "rules", "services.rules.migrations")
    yield connections
    await connections.close()


async def test_live_findings_equal_a_backtest_after_every_batch_of_random_histories(
    pool: asyncpg.Pool,
) -> None:
    pack = read_rules(RULES)
    for seed in range(HISTORIES):
        rng = random.Random(seed)
        clock = ManualClock(datetime(2025, 12, 20, 10, tzinfo=VIETNAM))
        judge = Judge(pack, clock, lambda: None, Metrics())
        scheduler = PeriodScheduler(pool, judge)
        await pool.execute(
            "truncate rules.events, rules.orgs, rules.cells, rules.meetings, rules.findings,"
            " rules.outbox, rules.evaluation_state"
        )
        history, seen = _history(rng), []
        while history:
            size = rng.randint(1, 4)
            batch, history = history[:size], history[size:]
            if rng.random() < 0.2:  # the clock moves on; the scheduler catches up
                clock.set(clock.now() + timedelta(days=rng.randint(1, 40)))
                await scheduler.catch_up()
            await ingest(pool, judge, [decode_event(dumps(e)) for e in batch], "nats")
            seen += batch
            rows = await pool.fetch(
                "select rule_id, cell_id, scope from rules.findings where status = 'open'"
            )
            live = {(r[0], r[1], r[2]) for r in rows}
            assert live == backtest(seen, clock.now()), f"seed {seed}, after {len(seen)} events"
