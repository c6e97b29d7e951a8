"""`chibo rules ...`: the parser, and the authoring commands lint, test and schema.

Each handler takes the parsed arguments and returns an exit status. The commands that judge
history (backtest, eval, explain, score) live in `history.py`.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

import msgspec

from services.infra.errors import Problem
from services.rules.adapters.files import (
    problems_of,
    read_rules,
    run_scenario_file,
    scenario_files,
    untested,
)
from services.rules.cli import history
from services.rules.domain.model import Pack, Rule
from services.rules.domain.scenarios import ScenarioFile
from services.rules.errors import RuleFileError

DEFAULT_RULES = Path("rules")
_SCHEMAS: dict[str, type] = {"rule": Rule, "pack": Pack, "tests": ScenarioFile}


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
        type=_date,
        required=True,
        help="exclusive evaluation horizon (a Vietnam date)",
    )
    backtest.add_argument(
        "--from",
        dest="since",
        type=_date,
        help="only findings whose period ends on or after this date",
    )
    backtest.add_argument("--format", choices=("jsonl", "table"), default="jsonl")
    backtest.add_argument(
        "--diff-against",
        type=Path,
        metavar="DIR",
        help="print only violations added or removed relative to this rules folder",
    )
    backtest.add_argument(
        "--passes",
        action="store_true",
        help="also print judged scopes that passed (status resolved); not with --diff-against",
    )
    backtest.set_defaults(handler=history.run_backtest)

    explain = sub.add_parser("explain", help="a readable account of one verdict")
    _facts_arguments(explain)
    explain.add_argument("--cell", required=True)
    explain.add_argument("--rule", required=True)
    explain.add_argument("--scope", required=True)
    explain.add_argument(
        "--until",
        type=_date,
        default=None,
        help="evaluation horizon (default: today in Vietnam)",
    )
    explain.set_defaults(handler=history.explain_verdict)

    run = sub.add_parser("eval", help="one rule on one cell: every scope it judges, each explained")
    run.add_argument("rule_id", metavar="RULE")
    _facts_arguments(run)
    run.add_argument("--cell", required=True)
    run.add_argument(
        "--until", type=_date, help="exclusive evaluation horizon (default: today in Vietnam)"
    )
    run.add_argument(
        "--from", dest="since", type=_date, help="only scopes whose period ends on or after it"
    )
    run.add_argument("--format", choices=("text", "jsonl"), default="text")
    run.set_defaults(handler=history.eval_rule)

    score = sub.add_parser("score", help="annual score and band per cell")
    _facts_arguments(score)
    score.add_argument("--year", type=int, required=True)
    score.add_argument(
        "--until",
        type=_date,
        help="exclusive horizon for a year still running (default: today in Vietnam)",
    )
    score.add_argument("--format", choices=("jsonl", "table"), default="table")
    score.set_defaults(handler=history.score_cells)


def _facts_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--events",
        type=Path,
        metavar="FILE.jsonl",
        help="CloudEvents, one per line (duplicates and corrections allowed)",
    )
    source.add_argument(
        "--db",
        nargs="?",
        const="",
        metavar="URL",
        help="the facts the rules service stored in the PostgreSQL at URL (default: "
        "--database-url, else the DATABASE_URL variable)",
    )
    parser.add_argument("--database-url", metavar="URL", help="the URL for a bare --db")
    parser.add_argument("--rules", type=Path, default=DEFAULT_RULES, metavar="DIR")


def lint_rules(args: argparse.Namespace) -> int:
    """Print every fault of the rules folder and its test cases, and a warning for each rule
    without test cases; 1 if there is any fault (warnings alone give 0)."""
    warnings: list[Problem] = []
    try:
        pack = read_rules(args.directory)
        problems = problems_of(args.directory, pack)
        warnings = untested(args.directory, pack)
    except RuleFileError as exc:
        problems = exc.problems
    for problem in [*problems, *warnings]:
        print(problem)
    if not problems:
        print(
            f"{args.directory}: {len(pack.rules)} rules, {len(scenario_files(args.directory))} "
            "test files, no problems",
            file=sys.stderr,
        )
    return 1 if problems else 0


def test_rules(args: argparse.Namespace) -> int:
    """Run the authors' cases; a failing case prints what was missing or unexpected."""
    try:
        pack = read_rules(args.directory)
        results = [
            r for path in scenario_files(args.directory) for r in run_scenario_file(path, pack)
        ]
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


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None
