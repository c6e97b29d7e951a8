"""Deadlines: passing one marks the case overdue and publishes `chibo.workflow.case.overdue` once.

Due cases are claimed with `FOR UPDATE SKIP LOCKED`, so several replicas poll side by side and
each case is marked by one of them; the flag and the outbox row commit together, and the
message id names the case, the deadline and its date, so the event is published once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg
import msgspec

from services.contracts.subjects import case_subject
from services.contracts.workflow import CaseOverdue
from services.infra import outbox
from services.infra.clock import Clock
from services.infra.lifespan import stopped_within
from services.workflow.adapters import repository
from services.workflow.adapters.repository import Due
from services.workflow.metrics import Metrics

log = logging.getLogger(__name__)
OVERDUE = "overdue"


async def mark_overdue(pool: asyncpg.Pool, clock: Clock, batch: int = 200) -> list[Due]:
    """Mark one batch of cases whose running deadline has passed; return them."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        due = await repository.due_cases(conn, now, batch)
        for case in due:
            await repository.flag_overdue(conn, case.case_id, case.deadline)
            message = CaseOverdue(**msgspec.structs.asdict(case), at=now)
            msg_id = f"case-{case.case_id}-overdue-{case.deadline}-{case.due.isoformat()}"
            body = msgspec.json.encode(message)
            await outbox.enqueue(
                conn, "workflow", [outbox.Message(case_subject(OVERDUE), msg_id, body)]
            )
    return due


class DeadlinePoller:
    """Calls `mark_overdue` every `interval` seconds until stopped."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        wake: Callable[[], None],
        interval: float,
        metrics: Metrics,
    ) -> None:
        self._pool, self._clock, self._interval = pool, clock, interval
        self._wake, self._metrics = wake, metrics
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Return from `run` at the next opportunity."""
        self._stopping.set()

    async def run(self) -> None:
        """Poll until stopped; faults are logged and retried at the next interval."""
        while not self._stopping.is_set():
            try:
                passed = await mark_overdue(self._pool, self._clock)
                if passed:
                    self._wake()
                for case in passed:
                    self._metrics.deadlines_passed.labels(case.deadline).inc()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("deadline poll failed, will retry: %s", exc)
            await stopped_within(self._stopping, self._interval)
