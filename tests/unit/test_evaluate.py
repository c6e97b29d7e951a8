"""Evaluation beyond the default pack: passes, shadow mode, effective dates, applicability."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from services.contracts.findings import FindingStatus, Mode
from services.rules.domain.evaluate import evaluate
from services.rules.domain.model import Rule
from services.rules.domain.pack import CompiledRule
from tests.builders import cell, facts_of, meeting, monthly


def _rule(**fields: Any) -> CompiledRule:
    spec: dict[str, Any] = {
        "id": "sample",
        "title": {"vi": "Mẫu", "en": "Sample"},
        "basis": "Điều lệ Đảng",
        "severity": "major",
        "weight": 10,
        "check": {
            "kind": "count",
            "period": "month",
            "meetings": "kind == 'regular'",
            "at_least": 1,
        },
        "message": {"vi": "{period}: chi ủy chưa họp", "en": "{period}: no committee meeting"},
    }
    return CompiledRule(msgspec.convert(spec | fields, Rule), "v1")


def _scopes(
    rule: CompiledRule, events: list[Any], until: str, **options: Any
) -> list[tuple[str, str]]:
    found = evaluate([rule], facts_of(events), date.fromisoformat(until), **options)
    return [(f.scope, f.status.value) for f in found]


def test_passed_scopes_are_reported_as_resolved_when_asked() -> None:
    events = [cell("c1"), *monthly("c1", date(2024, 1, 1), 1)]
    assert _scopes(_rule(), events, "2024-03-01", passes=True) == [
        ("2024-01", FindingStatus.resolved),
        ("2024-02", FindingStatus.open),
    ]


def test_shadow_rules_report_findings_marked_as_shadow() -> None:
    found = list(evaluate([_rule(mode="shadow")], facts_of([cell("c1")]), date(2024, 2, 1)))
    assert [(f.scope, f.mode) for f in found] == [("2024-01", Mode.shadow)]


def test_periods_before_a_rule_took_effect_or_after_it_ended_are_not_judged() -> None:
    rule = _rule(effective_from="2024-02-01", effective_until="2024-04-01")
    assert _scopes(rule, [cell("c1")], "2024-06-01") == [("2024-02", "open"), ("2024-03", "open")]


def test_applicability_filters_cells_by_type() -> None:
    rule = _rule(applies_to="cell_type in ('agency', 'public_service')")
    events = [cell("a", cell_type="agency"), cell("r", cell_type="rural")]
    found = evaluate([rule], facts_of(events), date(2024, 2, 1))
    assert [f.cell_id for f in found] == ["a"]


def test_from_date_keeps_only_findings_whose_period_ends_on_or_after_it() -> None:
    assert _scopes(_rule(), [cell("c1")], "2024-04-01", since=date(2024, 2, 29)) == [
        ("2024-02", "open"),
        ("2024-03", "open"),
    ]


def test_finding_carries_evidence_version_and_both_languages() -> None:
    events = [cell("c1"), meeting("k", "c1", "2024-01-10T08:00:00+07:00", kind="committee")]
    (found,) = evaluate([_rule()], facts_of(events), date(2024, 2, 1))
    assert (found.observed, found.expected, found.meeting_ids, found.rule_version) == (
        0,
        ">= 1",
        [],
        "v1",
    )
    assert (found.message.vi, found.message.en) == (
        "Tháng 1/2024: chi ủy chưa họp",
        "January 2024: no committee meeting",
    )
    assert (str(found.period_start), str(found.period_end)) == ("2024-01-01", "2024-01-31")


def test_gap_passes_name_each_stretch_by_its_first_day() -> None:
    rule = _rule(check={"kind": "gap", "meetings": "kind == 'regular'", "at_most_days": 45})
    events = [cell("c1"), meeting("m", "c1", "2024-01-20T08:00:00+07:00")]
    assert _scopes(rule, events, "2024-02-01", passes=True) == [
        ("since/2024-01-01", "resolved"),
        ("since/2024-01-21", "resolved"),
    ]
