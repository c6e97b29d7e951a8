"""Hot reload of the rule pack: validate the whole new pack, run its own tests, measure what it
changes, swap it atomically, re-judge.

An invalid pack, or one failing a case of its `tests/`, is refused with its lint errors or the
failing cases, and the running pack stays in force. A pack that passes is compared with the one
in force on every stored cell before the swap (the changed rules judged under both; see
`domain.impact`), so the answer tells the findings it opens and resolves per rule and the scores
and bands it moves; on a large database that takes as long as a backtest of the changed rules.
Files are watched by polling their names, sizes and modification times, which needs no extra
dependency and works on every file system.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import asyncpg
import msgspec

from services.infra.database import TRANSIENT_ERRORS
from services.infra.errors import InvalidInputError
from services.infra.lifespan import stopped_within
from services.rules.adapters import reloads, repository
from services.rules.adapters.files import failing_cases, read_rules
from services.rules.adapters.reloads import LastReload, ReloadResult
from services.rules.domain.facts import CellFacts
from services.rules.domain.impact import Comparison, Impact
from services.rules.domain.pack import RulePack
from services.rules.domain.scenarios import ScenarioResult
from services.rules.errors import JudgingFailedError, RuleFileError
from services.rules.service.judging import Judge
from services.rules.service.scheduler import PeriodScheduler

log = logging.getLogger(__name__)


CHUNK_CELLS = 500
"""Cells read from the database at a time while measuring a reload's impact."""


class ReloadOutcome(msgspec.Struct, kw_only=True):
    """What a reload did: the version in force afterwards, whether it changed, and what the
    change does to the stored cells' findings and scores (None when nothing changed)."""

    version: str
    previous_version: str
    changed: bool
    impact: Impact | None = None


class Reloader:
    """Loads `directory` on request or when its files change."""

    def __init__(
        self,
        directory: Path,
        pool: asyncpg.Pool,
        judge: Judge,
        scheduler: PeriodScheduler,
        *,
        watch_seconds: float,
    ) -> None:
        self.directory, self._pool, self._judge, self._scheduler = directory, pool, judge, scheduler
        self._watch_seconds = watch_seconds
        self._fingerprint = _fingerprint(directory)
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()

    async def reload(self, actor: str | None = None) -> ReloadOutcome:
        """Load and validate the folder; put it in force if it differs from the running pack.

        The outcome, or the refusal, is kept as the last reload, with `actor` (who asked; None
        for the file watcher), for every replica's `GET /rules` to tell."""
        async with self._lock:
            previous = self._judge.pack.version
            try:
                outcome = await self._reload()
            except InvalidInputError as exc:
                await self._keep(
                    LastReload(
                        at=self._judge.now(), actor=actor, result=ReloadResult.refused,
                        version=previous, previous_version=previous, detail=str(exc),
                        errors=[str(e) for e in exc.extensions.get("errors", [])],
                    )
                )  # fmt: skip
                raise
            result = ReloadResult.loaded if outcome.changed else ReloadResult.unchanged
            await self._keep(
                LastReload(
                    at=self._judge.now(), actor=actor, result=result, version=outcome.version,
                    previous_version=outcome.previous_version, impact=outcome.impact,
                )
            )  # fmt: skip
            return outcome

    async def last(self) -> LastReload | None:
        """The last reload on any replica, if one has been kept."""
        async with self._pool.acquire() as conn:
            return await reloads.last(conn)

    async def _keep(self, reload: LastReload) -> None:
        # The reload took effect (or was refused) whether or not its record is written: a
        # database fault here is logged, and the outcome still answered.
        try:
            async with self._pool.acquire() as conn:
                await reloads.record(conn, reload)
        except TRANSIENT_ERRORS:
            log.exception("keeping the last reload failed", extra={"result": reload.result})

    async def _reload(self) -> ReloadOutcome:
        """The reload itself, under the lock: the outcome, or InvalidInputError."""
        self._fingerprint = _fingerprint(self.directory)
        try:
            pack, failing = await asyncio.to_thread(_read_tested, self.directory)
        except RuleFileError as exc:
            raise InvalidInputError(
                "the rule pack is invalid; the running pack stays in force",
                errors=[str(problem) for problem in exc.problems],
            ) from None
        if failing:
            raise InvalidInputError(
                f"{len(failing)} of the pack's own test cases fail; the running pack stays "
                "in force",
                errors=[f"{r.file}:{r.line}: {r.name}\n" + "\n".join(r.diff) for r in failing],
            )
        previous = self._judge.pack
        if pack.version == previous.version:
            return ReloadOutcome(
                version=pack.version, previous_version=previous.version, changed=False
            )
        try:
            impact = await self._impact(pack, previous)
        except JudgingFailedError as exc:
            raise InvalidInputError(
                "the rule pack fails on the stored facts; the running pack stays in force",
                errors=[str(exc)],
            ) from None
        self._judge.swap(pack)
        log.info(
            "rule pack reloaded",
            extra={
                "version": pack.version,
                "rules_changed": impact.rules_changed,
                "opened": impact.opened,
                "resolved": impact.resolved,
                "score_changes": impact.score_changes,
                "band_changes": impact.band_changes,
            },
        )
        self._scheduler.wake()  # re-judges every cell by the rules that changed
        return ReloadOutcome(
            version=pack.version, previous_version=previous.version, changed=True, impact=impact
        )

    async def _impact(self, pack: RulePack, previous: RulePack) -> Impact:
        """What `pack` changes against `previous` on every stored cell, as of today."""
        comparison = Comparison(pack, previous, self._judge.horizon())
        async with self._pool.acquire() as conn:
            ids = sorted(await repository.cell_ids(conn))
            for first in range(0, len(ids), CHUNK_CELLS):
                chunk = ids[first : first + CHUNK_CELLS]
                cells = await repository.load_cells(conn, chunk, self._judge.meetings)
                await asyncio.to_thread(_compare, comparison, cells)
        return comparison.impact()

    def stop(self) -> None:
        """Stop watching the folder."""
        self._stopping.set()

    async def run(self) -> None:
        """Reload whenever the folder's files change, until stopped."""
        while not await stopped_within(self._stopping, self._watch_seconds):
            if _fingerprint(self.directory) == self._fingerprint:
                continue
            try:
                await self.reload()
            except InvalidInputError as exc:
                log.warning("edited rule pack refused", extra=exc.extensions)
            except Exception:  # a file vanishing mid-read, say: watching must go on
                log.exception("reading the rule pack failed; the running pack stays")


def _compare(comparison: Comparison, cells: list[CellFacts]) -> None:
    for facts in cells:
        comparison.cell(facts)


def _read_tested(directory: Path) -> tuple[RulePack, list[ScenarioResult]]:
    """The folder's pack, and the cases of its own tests (`tests/`) it fails."""
    pack = read_rules(directory)
    return pack, failing_cases(directory, pack)


def _fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    found = []
    for path in sorted(directory.rglob("*.yaml")):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # removed between listing and looking: the next look sees the change
        found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(found)
