"""What putting a new rule pack in force does to the verdicts, measured against the pack it
replaces: the findings each rule opens and resolves, and the cells whose score or band moves in
a closed year.

Only rules whose text changed (or that one pack has and the other lacks) are judged twice. A
cell's score for a year depends on the rest of the pack only through what the unchanged rules
contribute, which is the same before and after; so the unchanged rules are judged only for the
cells where the changed ones contribute differently (another count of judgments, another cost),
or for every cell when the score frame itself (full score, bands) changed.

A changed rule of the new pack that raises while judging a cell stops the comparison
(`JudgingFailedError`): it would fail the same way in force. Rules in force that raise on a
cell (the broken rule a fix replaces, or one both packs share) leave what they judge of that
cell out of the tally, counted in `cells_failed`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

import msgspec

from services.contracts.findings import Finding, FindingStatus, Mode, Text
from services.rules.domain.evaluate import judge_cell
from services.rules.domain.facts import CellFacts
from services.rules.domain.pack import CompiledRule, RulePack
from services.rules.domain.score import Cost, Score, score_year
from services.rules.errors import JudgingFailedError

Change = tuple[str, Finding]
"""`("added", finding)`: a violation only the new pack finds; `("removed", finding)`: one only
the old pack found."""

SCORE_SAMPLE = 100
"""How many score changes an impact lists (band changes, then the largest moves, first); all
are counted."""


class RuleImpact(msgspec.Struct, frozen=True, kw_only=True):
    """One rule's share of a change: violations found only now (`opened`), only before
    (`resolved`)."""

    rule_id: str
    title: Text
    opened: int
    resolved: int


class ScoreChange(msgspec.Struct, frozen=True, kw_only=True):
    """A cell whose score or band for a closed year differs between the two packs (None: the
    year is not judged under that pack)."""

    cell_id: str
    year: int
    score_before: int | None
    score_after: int | None
    band_before: str | None
    band_after: str | None


class Impact(msgspec.Struct, frozen=True, kw_only=True):
    """The effect of a new pack on the facts judged: which rules changed, how many cells were
    judged (and how many of them the rules in force fail on), the findings opened and resolved
    per rule, and the score and band changes per cell and closed year (`score_changes` counts
    them; `scores` lists the largest moves)."""

    rules_changed: list[str]
    cells_judged: int
    cells_failed: int
    opened: int
    resolved: int
    rules: list[RuleImpact]
    score_changes: int
    band_changes: int
    scores: list[ScoreChange]


class Comparison:
    """Judges cells one at a time under `new` and `old`, keeping the tally of an `Impact`.

    Judgments are those before `horizon` whose period ends on or after `since`; scores are
    compared for the years that had ended by `horizon` (and, with `since`, began after it).
    """

    def __init__(
        self, new: RulePack, old: RulePack, horizon: date, *, since: date | None = None
    ) -> None:
        self.new, self.old, self.horizon, self.since = new, old, horizon, since
        mine = {(rule.id, rule.version) for rule in new.rules}
        theirs = {(rule.id, rule.version) for rule in old.rules}
        self.changed = sorted({rule_id for rule_id, _ in mine ^ theirs})
        self._new_rules = [r for r in new.rules if r.id in self.changed]
        self._old_rules = [r for r in old.rules if r.id in self.changed]
        self._same_rules = [r for r in new.rules if r.id not in self.changed]
        self._frame_changed = new.pack != old.pack
        self.cells = 0
        self.failed = 0
        self._opened: Counter[str] = Counter()
        self._resolved: Counter[str] = Counter()
        self._scores: list[ScoreChange] = []
        self._bands = 0

    def cell(self, facts: CellFacts) -> list[Change]:
        """The violations of one cell found by only one of the packs, added to the tally."""
        self.cells += 1
        if not self._new_rules and not self._old_rules and not self._frame_changed:
            return []
        try:
            after = self._judged(self._new_rules, facts)
        except Exception as exc:  # a fault lint cannot see, met on these facts
            raise JudgingFailedError(facts.cell.cell_id, exc) from exc
        try:
            before = self._judged(self._old_rules, facts)
        except Exception:  # the pack being replaced cannot judge the cell: nothing to compare
            self.failed += 1
            return []
        now, then = _violations(after), _violations(before)
        changes: list[Change] = [("added", now[key]) for key in sorted(now.keys() - then.keys())]
        changes += [("removed", then[key]) for key in sorted(then.keys() - now.keys())]
        for change, finding in changes:
            (self._opened if change == "added" else self._resolved)[finding.rule_id] += 1
        if self._frame_changed or _share(after, self.new) != _share(before, self.old):
            self._rescore(facts, after, before)
        return changes

    def impact(self) -> Impact:
        """The tally of every cell judged so far."""
        titles = {rule.id: rule.title for rule in [*self.old.rules, *self.new.rules]}
        moved = sorted(self._scores, key=_move)
        return Impact(
            rules_changed=self.changed,
            cells_judged=self.cells,
            cells_failed=self.failed,
            opened=sum(self._opened.values()),
            resolved=sum(self._resolved.values()),
            rules=[
                RuleImpact(
                    rule_id=rule_id,
                    title=titles[rule_id],
                    opened=self._opened[rule_id],
                    resolved=self._resolved[rule_id],
                )
                for rule_id in sorted(self._opened.keys() | self._resolved.keys())
            ],
            score_changes=len(self._scores),
            band_changes=self._bands,
            scores=moved[:SCORE_SAMPLE],
        )

    def _judged(self, rules: Sequence[CompiledRule], facts: CellFacts) -> list[Finding]:
        return list(judge_cell(rules, facts, self.horizon, since=self.since, passes=True))

    def _rescore(self, facts: CellFacts, after: list[Finding], before: list[Finding]) -> None:
        try:
            same = self._judged(self._same_rules, facts)
        except Exception:  # a rule both packs share fails on the cell: its scores are unknown
            self.failed += 1
            return
        cell = facts.cell.cell_id
        years = sorted(
            year
            for year in {f.period_start.year for f in [*after, *before, *same]}
            if date(year + 1, 1, 1) <= self.horizon
            and (self.since is None or date(year, 1, 1) >= self.since)
        )
        for year in years:
            (now,) = score_year(
                [cell], [*same, *after], self.new.costs, self.new.pack, year, self.horizon
            )
            (then,) = score_year(
                [cell], [*same, *before], self.old.costs, self.old.pack, year, self.horizon
            )
            if (now.score, now.band) == (then.score, then.band):
                continue
            self._bands += now.band != then.band
            self._scores.append(_score_change(then, now))

    def _score(self, pack: RulePack, cell: str, found: list[Finding], year: int) -> Score:
        (score,) = score_year([cell], found, pack.costs, pack.pack, year, self.horizon)
        return score


def compare(
    new: RulePack,
    old: RulePack,
    cells: Iterable[CellFacts],
    horizon: date,
    *,
    since: date | None = None,
) -> tuple[Comparison, Iterator[Change]]:
    """The comparison of `new` with `old` over `cells`, and its changes, produced lazily so
    that millions of meetings are compared one cell at a time; the comparison's `impact()` is
    complete once the changes are exhausted."""
    comparison = Comparison(new, old, horizon, since=since)
    return comparison, (change for facts in cells for change in comparison.cell(facts))


def _violations(found: Iterable[Finding]) -> dict[tuple[str, str, str], Finding]:
    return {f.key: f for f in found if f.status == FindingStatus.open}


Share = Counter[tuple[int, str, Cost, bool]]


def _share(found: Iterable[Finding], pack: RulePack) -> Share:
    """What judgments contribute to a cell's scores: per year and rule, how many were judged
    and how many cost points (open, enforced), at the rule's cost."""
    share: Share = Counter()
    for f in found:
        costs = f.status == FindingStatus.open and f.mode == Mode.enforce
        share[f.period_start.year, f.rule_id, pack.costs[f.rule_id], costs] += 1
    return share


def _score_change(then: Score, now: Score) -> ScoreChange:
    return ScoreChange(
        cell_id=now.cell_id,
        year=now.year,
        score_before=then.score,
        score_after=now.score,
        band_before=then.band,
        band_after=now.band,
    )


def _move(change: ScoreChange) -> tuple[bool, int, str, int]:
    """Band changes first, then the largest moves (a year judged under one pack only before
    all), then by cell."""
    before, after = change.score_before, change.score_after
    size = abs(after - before) if before is not None and after is not None else 1_000_000
    return change.band_before == change.band_after, -size, change.cell_id, change.year
