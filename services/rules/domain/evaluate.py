"""Judging facts against a rule pack up to an exclusive horizon date."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

from services.contracts.findings import Finding
from services.rules.domain.compiled import CompiledRule
from services.rules.domain.facts import CellFacts, FactSource
from services.rules.domain.view import CellView


def evaluate(
    rules: Sequence[CompiledRule],
    source: FactSource,
    horizon: date,
    *,
    since: date | None = None,
    passes: bool = False,
) -> Iterator[Finding]:
    """Every violation (and, with `passes`, every passed judgment) before `horizon`.

    Cells are judged one at a time, each in one pass per distinct meeting filter over its
    meetings, so memory holds one cell's working set beside the facts. With `since`, only
    judgments whose period ends on or after that date are yielded.
    """
    for facts in source.cells():
        yield from judge_cell(rules, facts, horizon, since=since, passes=passes)


def judge_cell(
    rules: Sequence[CompiledRule],
    facts: CellFacts,
    horizon: date,
    *,
    since: date | None = None,
    passes: bool = False,
) -> Iterator[Finding]:
    """The judgments of one cell (see `evaluate`)."""
    view = CellView(facts, horizon)
    for rule in rules:
        if not rule.applies_to(view.cell):
            continue
        for finding in rule.judge(rule, view, passes):
            if since is None or finding.period_end >= since:
                yield finding


def compare(
    rules: Sequence[CompiledRule],
    baseline: Sequence[CompiledRule],
    source: FactSource,
    horizon: date,
    *,
    since: date | None = None,
) -> Iterator[tuple[str, Finding]]:
    """Violations only `rules` find ("added") or only `baseline` finds ("removed").

    Both rule sets judge each cell in turn, so a comparison over millions of meetings holds
    one cell's findings at a time, never two full result sets.
    """
    for facts in source.cells():
        after = {f.key: f for f in judge_cell(rules, facts, horizon, since=since)}
        before = {f.key: f for f in judge_cell(baseline, facts, horizon, since=since)}
        for key in sorted(after.keys() - before.keys()):
            yield "added", after[key]
        for key in sorted(before.keys() - after.keys()):
            yield "removed", before[key]
