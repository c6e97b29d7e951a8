"""Deadlines: passing one marks the case overdue and publishes `chibo.workflow.case.overdue` once.

Due cases are claimed with `FOR UPDATE SKIP LOCKED`, so several replicas poll side by side and
each case is marked by one of them; the flag and the outbox row commit together, and the
message id names the case, the deadline and its date, so the event is published once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
import msgspec

from services.contracts.subjects import case_subject
from services.contracts.workflow import CaseOverdue
from services.infra import outbox
from services.infra.clock import Clock

log = logging.getLogger(__name__)
OVERDUE = "overdue"
_DUE = """
select id, cell_id, org_id, state, deadline_kind, inspection_due, remediation_due
from workflow.cases
where deadline_at <= $1
  and ((deadline_kind = 'inspection' and not inspection_overdue)
       or (deadline_kind = 'remediation' and not remediation_overdue))
order by deadline_at
limit $2
for update skip locked
"""


async def mark_overdue(pool: asyncpg.Pool, clock: Clock, batch: int = 200) -> int:
    """Mark one batch of cases whose running deadline has passed; return how many."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(_DUE, now, batch)
        for row in rows:
            kind = row["deadline_kind"]
            due = row[f"{kind}_due"]
            await conn.execute(
                f"update workflow.cases set {kind}_overdue = true where id = $1", row["id"]
            )
            message = CaseOverdue(
                case_id=row["id"],
                cell_id=row["cell_id"],
                org_id=row["org_id"],
                state=row["state"],
                deadline=kind,
                due=due,
                at=now,
            )
            msg_id = f"case-{row['id']}-overdue-{kind}-{due.isoformat()}"
            body = msgspec.json.encode(message)
            await outbox.enqueue(
                conn, "workflow", [outbox.Message(case_subject(OVERDUE), msg_id, body)]
            )
    return len(rows)


class DeadlinePoller:
    """Calls `mark_overdue` every `interval` seconds until stopped."""

    def __init__(
        self, pool: asyncpg.Pool, clock: Clock, wake: Callable[[], None], interval: float
    ) -> None:
        self._pool, self._clock, self._interval = pool, clock, interval
        self._wake = wake
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Return from `run` at the next opportunity."""
        self._stopping.set()

    async def run(self) -> None:
        """Poll until stopped; faults are logged and retried at the next interval."""
        while not self._stopping.is_set():
            try:
                if await mark_overdue(self._pool, self._clock):
                    self._wake()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("deadline poll failed, will retry: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)
