"""The annual score: 100 minus the weights of the year's enforced violations, banded."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.contracts.findings import Finding, Text
from services.rules.domain.pack import DEFAULT_PACK
from services.rules.domain.score import band_of, score_year


def _finding(rule_id: str, start: str, **fields: Any) -> Finding:
    values: dict[str, Any] = {
        "rule_id": rule_id,
        "cell_id": "c1",
        "scope": start,
        "status": "open",
        "severity": "major",
        "mode": "enforce",
        "period_start": date.fromisoformat(start),
        "period_end": date.fromisoformat(start),
        "observed": 0,
        "expected": ">= 1",
        "meeting_ids": [],
        "rule_version": "v1",
        "message": Text(vi="x", en="x"),
    }
    return Finding(**(values | fields))


WEIGHTS = {"monthly": 10, "meeting": 2}


def _score(findings: list[Finding]) -> tuple[int, str]:
    (score,) = score_year(["c1"], findings, WEIGHTS, DEFAULT_PACK, 2024)
    return score.score, score.band


def test_a_cell_without_violations_scores_full_marks() -> None:
    assert _score([]) == (100, "excellent")


def test_each_violation_costs_its_rules_weight() -> None:
    found = [_finding("monthly", "2024-02-01"), _finding("meeting", "2024-05-03", scope="m1")]
    assert _score(found) == (88, "good")


def test_only_open_enforced_violations_of_the_year_count() -> None:
    found = [
        _finding("monthly", "2023-12-01"),
        _finding("monthly", "2024-02-01", mode="shadow"),
        _finding("monthly", "2024-03-01", status="resolved"),
        _finding("monthly", "2024-04-01"),
    ]
    assert _score(found) == (90, "excellent")


def test_score_is_floored_at_zero() -> None:
    assert _score([_finding("monthly", f"2024-{m:02d}-01") for m in range(1, 13)]) == (
        0,
        "not_complete",
    )


def test_bands_follow_quy_dinh_366() -> None:
    assert [band_of(s, DEFAULT_PACK).band for s in (90, 89, 70, 69, 50, 49, 0)] == [
        "excellent",
        "good",
        "good",
        "complete",
        "complete",
        "not_complete",
        "not_complete",
    ]
