"""Where the history commands read facts: an events file (bad lines reported), or the stored
facts in PostgreSQL; and the progress line they draw on a terminal while they work.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import msgspec

from services.infra.errors import StartupError
from services.infra.settings import from_env
from services.rules.adapters.files import read_events
from services.rules.adapters.repository import DatabaseFacts
from services.rules.domain.facts import CellFacts, FactSource


@contextmanager
def facts_from(args: argparse.Namespace) -> Iterator[FactSource]:
    """The facts the command line names: `--events FILE.jsonl` (bad lines reported on stderr),
    or `--db` (the stored facts at `--database-url`, by default `DATABASE_URL`)."""
    if args.db:
        url = args.database_url or from_env(_Database, "").database_url
        if not url:
            raise StartupError("--db needs --database-url or the DATABASE_URL variable")
        with DatabaseFacts(url) as stored:
            yield _Watched(stored)
        return
    path = args.events
    bar = Progress(f"reading {path.name}", path.stat().st_size)
    facts = read_events(path, lambda line: print(line, file=sys.stderr), bar.update)
    bar.finish()
    gc.freeze()  # the facts live until exit; later collections need not scan them
    yield _Watched(facts)


class _Database(msgspec.Struct, frozen=True):
    """The one setting `--db` falls back to: DATABASE_URL, as the services read it."""

    database_url: str = ""


class _Watched:
    """A FactSource showing on a terminal how many cells have been judged."""

    def __init__(self, source: FactSource) -> None:
        self.source = source

    def cells(self) -> Iterator[CellFacts]:
        """The source's cells, drawing progress as they are taken."""
        bar = Progress("judging cells", self.source.cell_count())
        for done, facts in enumerate(self.source.cells(), start=1):
            bar.update(done)
            yield facts
        bar.finish()

    def cell(self, cell_id: str) -> CellFacts | None:
        """The source's cell."""
        return self.source.cell(cell_id)

    def cell_count(self) -> int:
        """The source's count."""
        return self.source.cell_count()


class OneCell:
    """A FactSource of a single cell, to judge it alone."""

    def __init__(self, facts: CellFacts) -> None:
        self.facts = facts

    def cells(self) -> Iterator[CellFacts]:
        """The one cell."""
        yield self.facts

    def cell(self, cell_id: str) -> CellFacts | None:
        """The one cell, if it is `cell_id`."""
        return self.facts if self.facts.cell.cell_id == cell_id else None

    def cell_count(self) -> int:
        """One."""
        return 1


class Progress:
    """Redraws `label: done/total` at most ten times a second, only on a TTY."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self.label, self.total, self._drawn = label, max(total, 1), 0.0

    def update(self, done: int) -> None:
        """Show that `done` of `total` units are complete."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._drawn < 0.1:
            return
        self._drawn = now
        share = min(done / self.total, 1.0)
        bar = "#" * int(share * 30)
        self.stream.write(f"\r{self.label} [{bar:<30}] {share:6.1%}")
        self.stream.flush()

    def finish(self) -> None:
        """Clear the line so that what follows starts clean."""
        if self.enabled:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
