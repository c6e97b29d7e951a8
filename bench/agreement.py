"""Whether the backtest and the SQL baseline found the same violations."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import msgspec

from bench.sql_baseline import Violations


class _Key(msgspec.Struct):
    rule_id: str
    cell_id: str
    scope: str
    status: str


_decoder = msgspec.json.Decoder(_Key)


def violations_in(findings: Path) -> Violations:
    """The open findings of a backtest's JSON-lines output, per rule."""
    found: Violations = defaultdict(set)
    with findings.open("rb") as lines:
        for line in lines:
            key = _decoder.decode(line)
            if key.status == "open":
                found[key.rule_id].add((key.cell_id, key.scope))
    return dict(found)


def disagreements(backtest: Violations, sql: Violations, examples: int = 3) -> list[str]:
    """One line per rule on which the two differ, with a few of the differing verdicts."""
    lines = []
    for rule_id in sorted(backtest.keys() | sql.keys()):
        ours, theirs = backtest.get(rule_id, set()), sql.get(rule_id, set())
        if ours == theirs:
            continue
        only_ours = sorted(ours - theirs)[:examples]
        only_sql = sorted(theirs - ours)[:examples]
        lines.append(
            f"MISMATCH {rule_id}: backtest {len(ours)}, SQL {len(theirs)}; "
            f"only backtest e.g. {only_ours}; only SQL e.g. {only_sql}"
        )
    return lines
