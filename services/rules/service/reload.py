"""Hot reload of the rule pack: validate the whole new pack, run its own tests, swap it
atomically, re-judge.

An invalid pack, or one failing a case of its `tests/`, is refused with its lint errors or the
failing cases, and the running pack stays in force. Files are
watched by polling their names, sizes and modification times, which needs no extra dependency
and works on every file system.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import msgspec

from services.infra.errors import InvalidInputError
from services.infra.lifespan import stopped_within
from services.rules.adapters.files import failing_cases, read_rules
from services.rules.domain.pack import RulePack
from services.rules.domain.scenarios import ScenarioResult
from services.rules.errors import RuleFileError
from services.rules.service.judging import Judge
from services.rules.service.scheduler import PeriodScheduler

log = logging.getLogger(__name__)


class ReloadOutcome(msgspec.Struct, kw_only=True):
    """What a reload did: the version in force afterwards, and whether it changed."""

    version: str
    previous_version: str
    changed: bool


class Reloader:
    """Loads `directory` on request or when its files change."""

    def __init__(
        self, directory: Path, judge: Judge, scheduler: PeriodScheduler, *, watch_seconds: float
    ) -> None:
        self.directory, self._judge, self._scheduler = directory, judge, scheduler
        self._watch_seconds = watch_seconds
        self._fingerprint = _fingerprint(directory)
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()

    async def reload(self) -> ReloadOutcome:
        """Load and validate the folder; put it in force if it differs from the running pack."""
        async with self._lock:
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
            self._judge.swap(pack)
            log.info("rule pack reloaded", extra={"version": pack.version})
            self._scheduler.wake()  # re-judges every cell by the rules that changed
            return ReloadOutcome(
                version=pack.version, previous_version=previous.version, changed=True
            )

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
