"""`chibo rules backtest | explain | score`: judging a history of events without publishing.

A rule pack that does not load stops each command with its faults (`services.cli` prints them).

Facts come through a `FactSource` opened by `sources.facts_from`, the one place that knows where
they are read from: an events file (`--events`) or the stored facts in PostgreSQL (`--db`).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime

import msgspec

from services.contracts.calendar import VIETNAM
from services.contracts.findings import Text
from services.rules.adapters.files import read_rules
from services.rules.cli import report
from services.rules.cli.sources import OneCell, facts_from
from services.rules.domain.evaluate import compare, evaluate
from services.rules.domain.explain import NOT_JUDGED, explain, render
from services.rules.domain.score import score_year


def run_backtest(args: argparse.Namespace) -> int:
    """Judge the events' history up to `--until`; print findings or their changes."""
    pack = read_rules(args.rules)
    baseline = read_rules(args.diff_against) if args.diff_against else None
    with facts_from(args) as facts:
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
    pack = read_rules(args.rules)
    rule = pack.by_id.get(args.rule)
    if rule is None:
        print(f"no rule `{args.rule}` in {args.rules}", file=sys.stderr)
        return 1
    with facts_from(args) as facts:
        cell = facts.cell(args.cell)
    if cell is None:
        print(f"cell `{args.cell}` is not registered", file=sys.stderr)
        return 1
    horizon = args.until or datetime.now(VIETNAM).date()
    found = next(
        (f for f in evaluate([rule], OneCell(cell), horizon, passes=True) if f.scope == args.scope),
        None,
    )
    why = (
        Text(
            vi="Quy tắc không áp dụng cho chi bộ này.",
            en="The rule does not apply to this cell.",
        )
        if not rule.applies_to(cell.cell)
        else NOT_JUDGED
    )
    sys.stdout.write(render(explain(rule, cell, args.scope, found, why)))
    return 0


def score_cells(args: argparse.Namespace) -> int:
    """Print each cell's score and band for `--year`."""
    pack = read_rules(args.rules)
    first, end = date(args.year, 1, 1), date(args.year + 1, 1, 1)
    with facts_from(args) as facts:
        active = [
            c.cell.cell_id
            for c in facts.cells()
            if c.cell.established_on < end and (c.cell.dissolved_on or end) > first
        ]
        # A year still running is scored on what has happened: periods ended by the horizon.
        horizon = min(end, args.until or datetime.now(VIETNAM).date())
        findings = evaluate(pack.rules, facts, horizon, since=first, passes=True)
        scores = score_year(active, findings, pack.costs, pack.pack, args.year, horizon)
    if args.format == "jsonl":
        report.write_jsonl(sys.stdout, scores)
    else:
        report.write_scores(sys.stdout, scores)
    return 0
