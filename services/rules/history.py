"""`chibo rules backtest | explain | score`: judging a history of events without publishing.

Facts come through a `FactSource` built by `facts_from`, the one place that knows where they
are read from, so that a `--db` source can stand beside `--events`.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Iterator
from datetime import date, datetime

import msgspec

from services.rules import report
from services.rules.engine.evaluate import compare, evaluate
from services.rules.engine.facts import CellFacts, FactSource
from services.rules.engine.loader import load_rules
from services.rules.engine.periods import VIETNAM
from services.rules.engine.score import score_year
from services.rules.errors import RuleFileError
from services.rules.eventfile import read_events
from services.rules.progress import Progress


def run_backtest(args: argparse.Namespace) -> int:
    """Judge the events' history up to `--until`; print findings or their changes."""
    try:
        pack = load_rules(args.rules)
        baseline = load_rules(args.diff_against) if args.diff_against else None
    except RuleFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    facts = facts_from(args)
    if baseline is None:  # streamed: a long history never sits in memory as findings
        found = evaluate(pack.rules, facts, args.until, since=args.since, passes=args.passes)
        if args.format == "jsonl":
            report.write_jsonl(sys.stdout, found)
        else:
            report.write_table(sys.stdout, (("", f) for f in found))
        return 0
    changed = compare(pack.rules, baseline.rules, facts, args.until, since=args.since)
    if args.format == "jsonl":
        rows = ({"change": change} | msgspec.structs.asdict(f) for change, f in changed)
        report.write_jsonl(sys.stdout, rows)
    else:
        report.write_table(sys.stdout, (("+" if c == "added" else "-", f) for c, f in changed))
    return 0


def explain_verdict(args: argparse.Namespace) -> int:
    """Explain how `--rule` judged `--cell` over `--scope`."""
    try:
        pack = load_rules(args.rules)
    except RuleFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    rule = pack.by_id.get(args.rule)
    if rule is None:
        print(f"no rule `{args.rule}` in {args.rules}", file=sys.stderr)
        return 1
    facts = facts_from(args)
    cell = facts.cell(args.cell)
    if cell is None:
        print(f"cell `{args.cell}` is not registered", file=sys.stderr)
        return 1
    horizon = args.until or datetime.now(VIETNAM).date()
    found = next(
        (
            f
            for f in evaluate([rule], _OneCell(cell), horizon, passes=True)
            if f.scope == args.scope
        ),
        None,
    )
    why = (
        f"the rule does not apply to this cell ({rule.rule.applies_to})"
        if not rule.applies_to(cell.cell)
        else f"no such scope judged before {horizon}: the period has not ended, the cell was not "
        "active for all of it, the rule was not in force, or nothing matched the scope"
    )
    report.explain(sys.stdout, rule, cell, args.scope, found, why)
    return 0


def score_cells(args: argparse.Namespace) -> int:
    """Print each cell's score and band for `--year`."""
    try:
        pack = load_rules(args.rules)
    except RuleFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    facts = facts_from(args)
    first, end = date(args.year, 1, 1), date(args.year + 1, 1, 1)
    active = [
        c.cell.cell_id
        for c in facts.cells()
        if c.cell.established_on < end and (c.cell.dissolved_on or end) > first
    ]
    weights = {rule.id: rule.rule.weight for rule in pack.rules}
    findings = evaluate(pack.rules, facts, end, since=first)
    scores = score_year(active, findings, weights, pack.pack, args.year)
    if args.format == "jsonl":
        report.write_jsonl(sys.stdout, scores)
    else:
        report.write_scores(sys.stdout, scores)
    return 0


def facts_from(args: argparse.Namespace) -> FactSource:
    """The facts the command line names (`--events FILE.jsonl`), bad lines reported on stderr."""
    path = args.events
    bar = Progress(f"reading {path.name}", path.stat().st_size)
    facts = read_events(path, lambda line: print(line, file=sys.stderr), bar.update)
    bar.finish()
    gc.freeze()  # the facts live until exit; later collections need not scan them
    return _Watched(facts)


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


class _OneCell:
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
