"""`chibo rules backtest | eval | explain | score`: judging a history of events without publishing.

A rule pack that does not load stops each command with its faults (`services.cli` prints them).

Facts come through a `FactSource` opened by `sources.facts_from`, the one place that knows where
they are read from: an events file (`--events`) or the stored facts in PostgreSQL (`--db`).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from datetime import date, datetime

import msgspec

from services.contracts.calendar import VIETNAM
from services.contracts.findings import Finding
from services.rules.adapters.files import read_rules
from services.rules.cli import report
from services.rules.cli.sources import OneCell, facts_from
from services.rules.domain.evaluate import evaluate
from services.rules.domain.explain import DOES_NOT_APPLY, NOT_JUDGED, explain, render
from services.rules.domain.facts import CellFacts
from services.rules.domain.impact import compare
from services.rules.domain.pack import CompiledRule
from services.rules.domain.score import score_year


def run_backtest(args: argparse.Namespace) -> int:
    """Judge the events' history up to `--until`; print findings or their changes, then a
    summary on stderr (per rule; with `--diff-against`, the scores that move too)."""
    pack = read_rules(args.rules)
    baseline = read_rules(args.diff_against) if args.diff_against else None
    with facts_from(args) as facts:
        if baseline is None:  # streamed: a long history never sits in memory as findings
            tally = report.Tally()
            judged = evaluate(pack.rules, facts, args.until, since=args.since, passes=args.passes)
            found = tally.counted(judged)
            if args.format == "jsonl":
                report.write_jsonl(sys.stdout, found)
            else:
                report.write_table(sys.stdout, (("", f) for f in found))
            sys.stdout.flush()
            rule_ids = [rule.id for rule in pack.rules]
            report.write_summary(sys.stderr, facts.cell_count(), rule_ids, tally, args.passes)
            return 0
        comparison, changed = compare(pack, baseline, facts.cells(), args.until, since=args.since)
        if args.format == "jsonl":
            rows = ({"change": change} | msgspec.structs.asdict(f) for change, f in changed)
            report.write_jsonl(sys.stdout, rows)
        else:
            report.write_table(sys.stdout, (("+" if c == "added" else "-", f) for c, f in changed))
        sys.stdout.flush()
        report.write_impact(sys.stderr, comparison.impact())
        return 0


def explain_verdict(args: argparse.Namespace) -> int:
    """Explain how `--rule` judged `--cell` over `--scope`."""
    found = _rule_and_cell(args, args.rule)
    if found is None:
        return 1
    rule, cell = found
    judged = next((f for f in _judged(args, rule, cell) if f.scope == args.scope), None)
    why = NOT_JUDGED if rule.applies_to(cell.cell) else DOES_NOT_APPLY
    sys.stdout.write(render(explain(rule, cell, args.scope, judged, why)))
    return 0


def eval_rule(args: argparse.Namespace) -> int:
    """Judge one cell by one rule: every scope it judged, each with its explanation."""
    found = _rule_and_cell(args, args.rule_id)
    if found is None:
        return 1
    rule, cell = found
    judged = _judged(args, rule, cell, since=args.since)
    accounts = [explain(rule, cell, f.scope, f, NOT_JUDGED) for f in judged]
    if args.format == "jsonl":
        report.write_jsonl(sys.stdout, accounts)
        return 0
    if not accounts:
        why = NOT_JUDGED if rule.applies_to(cell.cell) else DOES_NOT_APPLY
        sys.stdout.write(f"{rule.id} · {cell.cell.cell_id}\n{why.vi}\n{why.en}\n")
        return 0
    for index, account in enumerate(accounts):
        sys.stdout.write(render(account, heading=index == 0) + "\n")
    violated = sum(1 for account in accounts if account.verdict == "violated")
    sys.stdout.write(report.judged_line(len(accounts), violated))
    return 0


def _judged(
    args: argparse.Namespace, rule: CompiledRule, cell: CellFacts, since: date | None = None
) -> list[Finding]:
    """Every judgment of `rule` on the cell before `--until` (default: today in Vietnam),
    passes included."""
    horizon = args.until or datetime.now(VIETNAM).date()
    return list(evaluate([rule], OneCell(cell), horizon, since=since, passes=True))


def _rule_and_cell(args: argparse.Namespace, rule_id: str) -> tuple[CompiledRule, CellFacts] | None:
    """The rule of the pack and the cell's facts the command names, or None (told why)."""
    pack = read_rules(args.rules)
    rule = pack.by_id.get(rule_id)
    if rule is None:
        near = difflib.get_close_matches(rule_id, pack.by_id, n=1)
        hint = f"; did you mean `{near[0]}`?" if near else ""
        print(f"no rule `{rule_id}` in {args.rules}{hint}", file=sys.stderr)
        return None
    with facts_from(args) as facts:
        cell = facts.cell(args.cell)
    if cell is None:
        print(f"cell `{args.cell}` is not registered", file=sys.stderr)
        return None
    return rule, cell


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
