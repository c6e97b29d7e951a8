"""The annual score: 100 minus what the year's enforced violations cost, banded; a year never
judged has no score, a running one is provisional."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.contracts.findings import Finding, Text
from services.rules.domain.pack import DEFAULT_PACK
from services.rules.domain.score import Cost, ScoreStatus, band_of, score_year


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


COSTS = {"monthly": Cost(10), "meeting": Cost(2), "capped": Cost(10, cap=15)}
ENDED = date(2025, 1, 1)  # a horizon after 2024
PASSED = _finding("meeting", "2024-01-10", scope="m0", status="resolved")


def _score(findings: list[Finding], horizon: date = ENDED) -> tuple[int | None, str | None]:
    (score,) = score_year(["c1"], [PASSED, *findings], COSTS, DEFAULT_PACK, 2024, horizon)
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


def test_a_rule_may_cap_what_it_costs_in_a_year() -> None:
    found = [_finding("capped", f"2024-{m:02d}-01") for m in (1, 2, 3)]
    assert _score(found) == (85, "good")  # 3 x 10, capped at 15


def test_a_year_with_nothing_judged_has_no_score() -> None:
    (score,) = score_year(["c1"], [], COSTS, DEFAULT_PACK, 2024, ENDED)
    assert (score.status, score.score, score.band, score.band_label) == (
        ScoreStatus.not_judged,
        None,
        None,
        None,
    )
    assert (score.status_text.vi, score.status_text.en) == ("chưa đánh giá", "not judged")


def test_judgments_of_another_year_do_not_make_this_one_judged() -> None:
    other = _finding("monthly", "2023-12-01", status="resolved")
    (score,) = score_year(["c1"], [other], COSTS, DEFAULT_PACK, 2024, ENDED)
    assert score.status is ScoreStatus.not_judged


def test_a_running_year_is_provisional_and_an_ended_one_final() -> None:
    running = score_year(["c1"], [PASSED], COSTS, DEFAULT_PACK, 2024, date(2024, 7, 1))
    ended = score_year(["c1"], [PASSED], COSTS, DEFAULT_PACK, 2024, ENDED)
    assert [s.status for s in (*running, *ended)] == [ScoreStatus.provisional, ScoreStatus.final]
    assert running[0].status_text.vi == "tạm tính, năm chưa kết thúc"
