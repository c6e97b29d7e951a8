"""Where the history commands read facts: an events file (bad lines reported), or the stored
facts in PostgreSQL; and the progress bars they draw on a terminal while they work (rich's,
on stderr, and only when stderr is a terminal: a pipe or a log file gets none).
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import msgspec
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from services.infra.errors import StartupError
from services.infra.settings import from_env
from services.rules.adapters.files import read_events
from services.rules.adapters.repository import DatabaseFacts
from services.rules.domain.facts import CellFacts, FactSource


@contextmanager
def facts_from(args: argparse.Namespace) -> Iterator[FactSource]:
    """The facts the command line names: `--events FILE.jsonl` (bad lines reported on stderr),
    or `--db [URL]` (the stored facts at URL, by default `--database-url` or `DATABASE_URL`)."""
    if args.db is not None:
        url = args.db or args.database_url or from_env(_Database, "").database_url
        if not url:
            raise StartupError("--db needs --database-url or the DATABASE_URL variable")
        with DatabaseFacts(url) as stored:
            yield _Watched(stored)
        return
    path = args.events
    with progress_bar() as bar:
        task = bar.add_task(f"reading {path.name}", total=path.stat().st_size)
        facts = read_events(path, _said(bar), lambda done: bar.update(task, completed=done))
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
        with progress_bar() as bar:
            task = bar.add_task("judging cells", total=self.source.cell_count())
            for facts in self.source.cells():
                bar.advance(task)
                yield facts

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


def progress_bar() -> Progress:
    """A progress bar on stderr, drawn only when stderr is a terminal; cleared when done."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def _said(bar: Progress) -> Callable[[str], None]:
    """Where a rejected line is told: above the bar on a terminal, else plainly on stderr."""
    if not bar.console.is_terminal:
        return lambda line: print(line, file=sys.stderr)
    return lambda line: bar.console.print(line, markup=False, highlight=False, soft_wrap=True)
