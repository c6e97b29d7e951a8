"""Judging cells live: the one place where stored facts meet the rule pack in force.

Whatever triggers it — new events, a period's end, a new rule pack — judging a set of cells
re-judges each of them entirely and stores the difference, so the open findings always equal the
violations that `chibo rules backtest --until <today>` finds on the same facts.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime

from services.contracts.calendar import vietnam_date
from services.contracts.findings import Finding
from services.infra.clock import Clock
from services.infra.database import TRANSIENT_ERRORS, Connection
from services.rules.adapters import findings, repository, tallies
from services.rules.domain.evaluate import Years, cut, judge_cell
from services.rules.domain.pack import RulePack
from services.rules.domain.reconcile import Key, Stored, reconcile
from services.rules.metrics import Metrics

log = logging.getLogger(__name__)

Touched = dict[str, Years | None]
"""What a batch of events touches: per cell, the Vietnam years to judge, or None for all."""


class Judge:
    """Holds the rule pack in force (swapped atomically on reload) and judges cells with it."""

    def __init__(
        self, pack: RulePack, clock: Clock, announce: Callable[[], None], metrics: Metrics
    ) -> None:
        self.pack = pack
        self.metrics = metrics
        self.loaded_at = clock.now()
        self.clock = clock
        self._announce = announce
        self.meetings = repository.MeetingMemo()
        self.on_deferred: Callable[[], None] = lambda: None

    def swap(self, pack: RulePack) -> RulePack:
        """Put `pack` in force; return the one it replaces."""
        previous, self.pack, self.loaded_at = self.pack, pack, self.clock.now()
        return previous

    def horizon(self) -> date:
        """Today in Vietnam: every period that ended before today is judged (exclusive)."""
        return vietnam_date(self.clock.now())

    def now(self) -> datetime:
        """The judging clock's current instant."""
        return self.clock.now()

    async def judge_cells(
        self,
        conn: Connection,
        cell_ids: Collection[str],
        rule_ids: Collection[str] | None = None,
        horizon: date | None = None,
        pack: RulePack | None = None,
        years: Mapping[str, Years] | None = None,
    ) -> int:
        """Re-judge `cell_ids` (by `rule_ids`, or the whole `pack`) in the caller's transaction.

        A cell named in `years` is judged over those Vietnam years only (see `domain.evaluate.cut`).
        Returns how many finding messages were enqueued; call `announce` after the commit.
        """
        if not cell_ids:
            return 0
        pack = pack or self.pack  # one pack for the whole judgment, even if a reload swaps it
        await repository.lock_cells(conn, cell_ids)
        cells = await repository.load_cells(conn, sorted(cell_ids), self.meetings)
        stored = await findings.stored_for(conn, list(cell_ids))
        rules = [r for r in pack.rules if rule_ids is None or r.id in rule_ids]
        at = horizon or self.horizon()
        violations: list[Finding] = []
        if years:  # windowed cells answer only for the findings their years touch
            by_cell: dict[str, dict[Key, Stored]] = defaultdict(dict)
            for key, kept in stored.items():
                by_cell[key[1]][key] = kept
        for facts in cells:
            window = years.get(facts.cell.cell_id) if years else None
            if window is None:
                violations.extend(judge_cell(rules, facts, at))
                continue
            own = by_cell.pop(facts.cell.cell_id, {})
            found, questioned = cut(rules, facts, at, window, own)
            violations.extend(found)
            for key in own.keys() - questioned.keys():
                del stored[key]
        changes = reconcile(stored, violations, rule_ids)
        if not changes:
            return 0
        self.metrics.findings_changed.labels("opened").inc(len(changes.opened))
        self.metrics.findings_changed.labels("resolved").inc(len(changes.resolved))
        return await findings.write(conn, changes, pack.version, self.now())

    async def judge_cells_or_defer(self, conn: Connection, touched: Touched) -> int | None:
        """Judge what `touched` names, as `judge_cells` does; None if judging itself failed.

        Judging runs in a savepoint: a fault in it (a rule that breaks on some meeting, say)
        rolls back only the judgment, the facts stay stored, and the recorded state is cleared;
        after the commit, `judge_everything_soon` makes the scheduler judge every cell again.
        Passing faults still propagate, for the whole batch to be retried.

        The cells' tallies for the org reports are dropped first, under the cells' locks, which
        a report holds while it makes a tally: none is kept from the facts this batch replaced.
        """
        await repository.lock_cells(conn, touched.keys())
        await tallies.forget(conn, touched.keys())
        try:
            years = {cell: found for cell, found in touched.items() if found is not None}
            async with conn.transaction():
                return await self.judge_cells(conn, touched.keys(), years=years)
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            log.exception("judging failed; the facts are kept and judged at the next full pass")
            await findings.forget_judged(conn)
            return None

    def judge_everything_soon(self) -> None:
        """Ask for a full pass now (wired to the scheduler by the composition root)."""
        self.on_deferred()

    def announce(self) -> None:
        """Tell the outbox relay that committed messages are waiting."""
        self._announce()
