"""The annual score of a cell: the full score minus what that year's violations cost.

A violation costs its rule's `weight`; a rule's costs in one year stop at its
`max_weight_per_year` when it sets one. A year the cell was never judged in (no rule judged
any of its periods, meetings, gaps or members: before the cell existed, or before a first
period ended) has no score at all: `not_judged`, not full marks. A year still running at the
horizon is scored on what has been judged so far and said to be `provisional`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date

import msgspec

from services.contracts.findings import Finding, FindingStatus, Mode, Text
from services.rules.domain.model import Band, Pack


class ScoreStatus(enum.StrEnum):
    """`final`: the year has ended; `provisional`: it is still running; `not_judged`: nothing
    of the year has been judged, so there is no score."""

    final = "final"
    provisional = "provisional"
    not_judged = "not_judged"


STATUS_WORDS = {
    ScoreStatus.final: Text(vi="chính thức", en="final"),
    ScoreStatus.provisional: Text(
        vi="tạm tính, năm chưa kết thúc", en="provisional, the year is still running"
    ),
    ScoreStatus.not_judged: Text(vi="chưa đánh giá", en="not judged"),
}


class Cost(msgspec.Struct, frozen=True):
    """What a rule's violations cost: `weight` each, at most `cap` in a year (None: no cap)."""

    weight: int
    cap: int | None = None


class Score(msgspec.Struct, frozen=True, kw_only=True):
    """One cell's rating for one year, with the violations that cost points. `score` and
    `band` are None when the year was not judged."""

    cell_id: str
    year: int
    status: ScoreStatus
    status_text: Text
    score: int | None
    band: str | None
    violations: int
    judgments: int
    deductions: dict[str, int]
    band_label: Text | None = None


class Standing(msgspec.Struct, frozen=True, kw_only=True):
    """A cell's year in brief, as a list of cells shows it: the score and band (None when not
    judged), the band's label, and whether the score is final."""

    year: int
    status: ScoreStatus
    score: int | None
    band: str | None
    band_label: Text | None = None


def standing(score: Score) -> Standing:
    """The brief form of `score`."""
    return Standing(
        year=score.year, status=score.status, score=score.score, band=score.band,
        band_label=score.band_label,
    )  # fmt: skip


def score_year(
    cell_ids: Iterable[str],
    findings: Iterable[Finding],
    costs: Mapping[str, Cost],
    pack: Pack,
    year: int,
    horizon: date,
) -> list[Score]:
    """Scores for `year` of every cell in `cell_ids`, from its judgments of the year judged
    before `horizon`, passes included (they tell a judged year from one never judged).

    A judgment belongs to the year its period starts in; only open findings of `enforce`
    rules cost points, shadow rules being trials. The score is floored at 0 and banded by
    `pack`.
    """
    lost: dict[str, dict[str, int]] = {cell: {} for cell in cell_ids}
    counts: dict[str, int] = dict.fromkeys(lost, 0)
    judged: dict[str, int] = dict.fromkeys(lost, 0)
    for finding in findings:
        cell = finding.cell_id
        if finding.period_start.year != year or cell not in lost:
            continue
        judged[cell] += 1
        if finding.status == FindingStatus.open and finding.mode == Mode.enforce:
            cost = costs[finding.rule_id]
            per_rule = lost[cell]
            spent = per_rule.get(finding.rule_id, 0) + cost.weight
            per_rule[finding.rule_id] = spent if cost.cap is None else min(spent, cost.cap)
            counts[cell] += 1
    running = horizon < date(year + 1, 1, 1)
    return [
        _rated(cell, year, per_rule, counts[cell], judged[cell], running, pack)
        for cell, per_rule in lost.items()
    ]


def band_of(score: int, pack: Pack) -> Band:
    """The band a score earns: the first whose `at_least` it reaches."""
    for band in pack.bands:
        if score >= band.at_least:
            return band
    return pack.bands[-1]


def _rated(
    cell: str,
    year: int,
    per_rule: dict[str, int],
    count: int,
    judged: int,
    running: bool,
    pack: Pack,
) -> Score:
    if not judged:
        status = ScoreStatus.not_judged
        return Score(
            cell_id=cell, year=year, status=status, status_text=STATUS_WORDS[status],
            score=None, band=None, violations=0, judgments=0, deductions={},
        )  # fmt: skip
    status = ScoreStatus.provisional if running else ScoreStatus.final
    total = max(0, pack.full_score - sum(per_rule.values()))
    band = band_of(total, pack)
    return Score(
        cell_id=cell,
        year=year,
        status=status,
        status_text=STATUS_WORDS[status],
        score=total,
        band=band.band,
        violations=count,
        judgments=judged,
        deductions=dict(sorted(per_rule.items())),
        band_label=band.label,
    )
