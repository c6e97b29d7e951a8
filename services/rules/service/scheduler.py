"""Judging every cell when the horizon moves (a new day in Vietnam) or the rule pack changes.

The last complete judgment is recorded in `rules.evaluation_state`, so a service that was down
across a period end, or started with edited rules, catches up as soon as it starts. Only one
replica judges at a time (a session advisory lock); the others find the work done.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time, timedelta

import asyncpg

from services.contracts.calendar import VIETNAM
from services.infra.database import session_lock
from services.rules.adapters import findings, repository
from services.rules.service.judging import Judge

log = logging.getLogger(__name__)
_SCHEDULER_LOCK = 7302
CHUNK_CELLS = 200
# After a failed pass, or while another replica judges, look again this soon.
RECHECK_SECONDS = 30.0


class PeriodScheduler:
    """Keeps every cell judged at today's horizon with the pack in force."""

    def __init__(self, pool: asyncpg.Pool, judge: Judge) -> None:
        self._pool, self._judge = pool, judge
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Check now (after a rule pack reload, say) instead of at the next midnight."""
        self._wake.set()

    def stop(self) -> None:
        """Return from `run` after the current pass."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Catch up now, then at every Vietnam midnight, wake-up or re-check, until stopped."""
        while not self._stopping:
            self._wake.clear()
            try:
                done = await self.catch_up()
            except Exception:
                log.exception("judging every cell failed; retrying shortly")
                done = False
            if not done:  # failed, or another replica is judging: look again soon
                wake_at = self._judge.now() + timedelta(seconds=RECHECK_SECONDS)
            else:
                wake_at = _next_midnight(self._judge.now())
            sleeping = asyncio.ensure_future(self._judge.clock.sleep_until(wake_at))
            waking = asyncio.ensure_future(self._wake.wait())
            await asyncio.wait({sleeping, waking}, return_when=asyncio.FIRST_COMPLETED)
            for task in (sleeping, waking):
                task.cancel()

    async def catch_up(self) -> bool:
        """Judge what the recorded state says is behind; True once every cell is up to date."""
        async with (
            self._pool.acquire() as conn,
            session_lock(conn, _SCHEDULER_LOCK, wait=False) as locked,
        ):
            if not locked:
                return False  # another replica is judging right now
            # A pass that ends after midnight must start again: its horizon is already old.
            while not self._stopping and not await self._catch_up(conn):
                pass
            return not self._stopping

    async def _catch_up(self, conn: asyncpg.pool.PoolConnectionProxy[asyncpg.Record]) -> bool:
        """One pass; True when the state it leaves is current (nothing to judge, or judged)."""
        pack, horizon = self._judge.pack, self._judge.horizon()
        rules = {rule.id: rule.version for rule in pack.rules}
        state = await findings.judged_state(conn)
        if state is None or state.horizon != horizon:
            rule_ids = None  # the horizon moved: periods ended and gaps grew for every rule
        else:
            before = state.rules
            rule_ids = {r for r in before.keys() | rules.keys() if before.get(r) != rules.get(r)}
            if not rule_ids:
                return True
        log.info("judging every cell", extra={"horizon": str(horizon), "rules": rule_ids})
        cells = await repository.cell_ids(conn)
        for start in range(0, len(cells), CHUNK_CELLS):
            if self._stopping:
                return False
            chunk = cells[start : start + CHUNK_CELLS]
            async with conn.transaction():
                announced = await self._judge.judge_cells(conn, chunk, rule_ids, horizon, pack)
            if announced:
                self._judge.announce()
        judged = findings.JudgedState(horizon, rules)
        await findings.record_judged(conn, judged, pack.version, self._judge.now())
        return self._judge.horizon() == horizon and self._judge.pack is pack


def _next_midnight(now: datetime) -> datetime:
    today = now.astimezone(VIETNAM).date()
    return datetime.combine(today + timedelta(days=1), time(), VIETNAM)
