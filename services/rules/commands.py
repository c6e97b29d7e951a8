"""`chibo rules ...`: lint, test, schema, backtest, explain and score, over files only.

Each handler parses nothing and returns an exit status; facts come through a `FactSource`
so that a `--db` source can stand beside `--events` without touching the handlers' logic.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import msgspec

from services.contracts.findings import Finding
from services.rules import report
from services.rules.engine.casecheck import case_files, problems_of, run_case_file
from services.rules.engine.cases import CaseFile
from services.rules.engine.evaluate import evaluate
from services.rules.engine.facts import CellFacts, FactSource
from services.rules.engine.loader import RulePack, load_rules
from services.rules.engine.model import Pack, Rule
from services.rules.engine.periods import VIETNAM
from services.rules.engine.score import score_year
from services.rules.errors import RuleFileError
from services.rules.eventfile import read_events
from services.rules.progress import Progress

DEFAULT_RULES = Path("rules")
_SCHEMAS: dict[str, type] = {"rule": Rule, "pack": Pack, "tests": CaseFile}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `rules` and its sub-commands to a `chibo` argument parser."""
    rules = subparsers.add_parser("rules", help="lint, test and run the YAML rule pack")
    sub = rules.add_subparsers(dest="rules_command", required=True, metavar="COMMAND")

    lint = sub.add_parser("lint", help="validate rule files; faults as file:line:col")
    lint.add_argument("directory", nargs="?", type=Path, default=DEFAULT_RULES, metavar="DIR")
    lint.set_defaults(handler=lint_rules)

    test = sub.add_parser("test", help="run the test cases kept beside the rules")
    test.add_argument("directory", nargs="?", type=Path, default=DEFAULT_RULES, metavar="DIR")
    test.set_defaults(handler=test_rules)

    schema = sub.add_parser("schema", help="JSON Schema of the rule file format")
    schema.add_argument("--of", choices=sorted(_SCHEMAS), default="rule")
    schema.set_defaults(handler=print_schema)

    backtest = sub.add_parser("backtest", help="judge history without publishing anything")
    _facts_arguments(backtest)
    backtest.add_argument(
        "--until",
        type=date.fromisoformat,
        required=True,
        help="exclusive evaluation horizon (a Vietnam date)",
    )
    backtest.add_argument(
        "--from",
        dest="since",
        type=date.fromisoformat,
        help="only findings whose period ends on or after this date",
    )
    backtest.add_argument("--format", choices=("jsonl", "table"), default="jsonl")
    backtest.add_argument(
        "--diff-against",
        type=Path,
        metavar="DIR",
        help="print only findings added or removed relative to this rules folder",
    )
    backtest.add_argument(
        "--passes",
        action="store_true",
        help="also print judged scopes that passed (status resolved)",
    )
    backtest.set_defaults(handler=run_backtest)

    explain = sub.add_parser("explain", help="a readable account of one verdict")
    _facts_arguments(explain)
    explain.add_argument("--cell", required=True)
    explain.add_argument("--rule", required=True)
    explain.add_argument("--scope", required=True)
    explain.add_argument(
        "--until",
        type=date.fromisoformat,
        default=None,
        help="evaluation horizon (default: today in Vietnam)",
    )
    explain.set_defaults(handler=explain_verdict)

    score = sub.add_parser("score", help="annual score and band per cell")
    _facts_arguments(score)
    score.add_argument("--year", type=int, required=True)
    score.add_argument("--format", choices=("jsonl", "table"), default="table")
    score.set_defaults(handler=score_cells)


def _facts_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--events",
        type=Path,
        required=True,
        metavar="FILE.jsonl",
        help="CloudEvents, one per line (duplicates and corrections allowed)",
    )
    parser.add_argument("--rules", type=Path, default=DEFAULT_RULES, metavar="DIR")


def lint_rules(args: argparse.Namespace) -> int:
    """Print every fault of the rules folder and its test cases; 1 if there is any."""
    try:
        pack = load_rules(args.directory)
        problems = problems_of(args.directory, pack)
    except RuleFileError as exc:
        problems = exc.problems
    for problem in problems:
        print(problem)
    if not problems:
        print(
            f"{args.directory}: {len(pack.rules)} rules, {len(case_files(args.directory))} "
            "test files, no problems",
            file=sys.stderr,
        )
    return 1 if problems else 0


def test_rules(args: argparse.Namespace) -> int:
    """Run the authors' cases; a failing case prints what was missing or unexpected."""
    try:
        pack = load_rules(args.directory)
        results = [r for path in case_files(args.directory) for r in run_case_file(path, pack)]
    except RuleFileError as exc:
        print(exc)
        return 1
    failed = [r for r in results if not r.passed]
    for result in failed:
        print(f"FAIL {result.file}:{result.line}: {result.name}")
        print("\n".join(result.diff))
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def print_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of a rule file (or pack or test file) for editors."""
    schema = msgspec.json.schema(_SCHEMAS[args.of])
    print(msgspec.json.format(msgspec.json.encode(schema)).decode())
    return 0


def run_backtest(args: argparse.Namespace) -> int:
    """Judge the events' history up to `--until`; print findings or their changes."""
    try:
        pack = load_rules(args.rules)
        baseline = load_rules(args.diff_against) if args.diff_against else None
    except RuleFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    facts = _read_facts(args.events)
    found = _findings(pack, facts, args.until, args.since, args.passes)
    if baseline is None:  # streamed: a long history never sits in memory as findings
        if args.format == "jsonl":
            report.write_jsonl(sys.stdout, found)
        else:
            report.write_table(sys.stdout, (("", f) for f in found))
        return 0
    old = _findings(baseline, facts, args.until, args.since, args.passes)
    changed = list(report.changes(found, old))
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
    facts = _read_facts(args.events)
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
    facts = _read_facts(args.events)
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


def _findings(
    pack: RulePack, facts: FactSource, until: date, since: date | None, passes: bool
) -> Iterator[Finding]:
    return evaluate(pack.rules, facts, until, since=since, passes=passes)


def _read_facts(path: Path) -> FactSource:
    size = path.stat().st_size
    bar = Progress(f"reading {path.name}", size)
    facts = read_events(path, lambda line: print(line, file=sys.stderr), bar.update)
    bar.finish()
    gc.freeze()  # the facts live until exit; later collections need not scan them
    return facts


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
