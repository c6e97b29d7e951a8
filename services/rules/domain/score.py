"""The annual score of a cell: the full score minus the weights of that year's violations."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from services.contracts.findings import Finding, FindingStatus, Mode, Text
from services.rules.domain.model import Band, Pack


class Score(msgspec.Struct, frozen=True, kw_only=True):
    """One cell's rating for one year, with the violations that cost points."""

    cell_id: str
    year: int
    score: int
    band: str
    violations: int
    deductions: dict[str, int]
    band_label: Text | None = None


def score_year(
    cell_ids: Iterable[str],
    findings: Iterable[Finding],
    weights: dict[str, int],
    pack: Pack,
    year: int,
) -> list[Score]:
    """Scores for `year` of every cell in `cell_ids`.

    A violation belongs to the year its period starts in; only open findings of `enforce`
    rules count, shadow rules being trials. The score is floored at 0 and banded by `pack`.
    """
    lost: dict[str, dict[str, int]] = {cell: {} for cell in cell_ids}
    counts: dict[str, int] = dict.fromkeys(lost, 0)
    for finding in findings:
        if (
            finding.status == FindingStatus.open
            and finding.mode == Mode.enforce
            and finding.period_start.year == year
            and finding.cell_id in lost
        ):
            per_rule = lost[finding.cell_id]
            per_rule[finding.rule_id] = per_rule.get(finding.rule_id, 0) + weights[finding.rule_id]
            counts[finding.cell_id] += 1
    return [_rated(cell, year, per_rule, counts[cell], pack) for cell, per_rule in lost.items()]


def band_of(score: int, pack: Pack) -> Band:
    """The band a score earns: the first whose `at_least` it reaches."""
    for band in pack.bands:
        if score >= band.at_least:
            return band
    return pack.bands[-1]


def _rated(cell: str, year: int, per_rule: dict[str, int], count: int, pack: Pack) -> Score:
    total = max(0, pack.full_score - sum(per_rule.values()))
    band = band_of(total, pack)
    return Score(
        cell_id=cell,
        year=year,
        score=total,
        band=band.band,
        violations=count,
        deductions=dict(sorted(per_rule.items())),
        band_label=band.label,
    )
