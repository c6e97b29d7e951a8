"""The shipped rule pack: naming, content, and its authors' test cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.rules.adapters.files import problems_of, rule_files, run_scenario_file, scenario_files
from tests.builders import RULES, default_pack

DEFAULT_RULES = {
    "regular-meeting-monthly",
    "committee-meeting-monthly",
    "thematic-meeting-quarterly",
    "hcm-study-quarterly",
    "topic-groups-yearly",
    "meeting-duration",
    "attendance-rate",
    "no-unexcused-absence",
    "criticism-each-meeting",
    "regular-meeting-gap",
    "member-unexcused-3-months",
    "member-excused-streak",
}


def test_the_pack_holds_exactly_the_twelve_rules_of_the_design() -> None:
    assert set(default_pack().by_id) == DEFAULT_RULES


def test_file_names_equal_rule_ids() -> None:
    pack = default_pack()
    assert [path.stem for path in rule_files(RULES)] == [rule.id for rule in pack.rules]


def test_every_rule_names_its_regulation_and_speaks_both_languages() -> None:
    for rule in default_pack().rules:
        spec = rule.rule
        assert spec.basis.strip()
        assert spec.title.vi != spec.title.en
        assert spec.message.vi != spec.message.en


def test_every_rule_has_test_cases_beside_it() -> None:
    assert {path.stem for path in scenario_files(RULES)} == DEFAULT_RULES


def test_case_files_are_well_formed() -> None:
    assert problems_of(RULES, default_pack()) == []


@pytest.mark.parametrize("path", scenario_files(RULES), ids=lambda p: p.stem)
def test_authors_cases_pass(path: Path) -> None:
    failures = [r for r in run_scenario_file(path, default_pack()) if not r.passed]
    assert failures == []


def test_only_the_duration_rule_carries_an_effective_date() -> None:
    dated = {r.id: r.rule.effective_from for r in default_pack().rules if r.rule.effective_from}
    assert {rule: str(day) for rule, day in dated.items()} == {"meeting-duration": "2025-10-28"}
