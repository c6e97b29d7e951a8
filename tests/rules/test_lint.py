"""Lint: every fault of a rule file is reported at file:line:col with what to fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.rules.adapters.files import problems_of, read_rules
from services.rules.errors import RuleFileError
from tests.builders import RULES

GOOD = """\
id: sample
title: {vi: "Mẫu", en: "Sample"}
basis: "Điều lệ Đảng"
severity: major
weight: 10
check:
  kind: count
  period: month
  meetings: "kind == 'regular'"
  at_least: 1
message: {vi: "Tháng {period}", en: "{period}"}
"""


def _problems(tmp_path: Path, text: str, name: str = "sample.yaml") -> list[str]:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        read_rules(tmp_path)
    prefix = f"{tmp_path}/"
    return [str(problem).removeprefix(prefix) for problem in caught.value.problems]


def test_a_well_formed_rule_loads(tmp_path: Path) -> None:
    (tmp_path / "sample.yaml").write_text(GOOD, encoding="utf-8")
    assert [rule.id for rule in read_rules(tmp_path).rules] == ["sample"]


def test_unknown_key_is_reported_at_the_key(tmp_path: Path) -> None:
    text = GOOD.replace("  at_least: 1\n", "  at_least: 1\n  at_leest: 2\n")
    assert _problems(tmp_path, text) == [
        "sample.yaml:11:3: check: Object contains unknown field `at_leest`; did you mean "
        "`at_least`?"
    ]


def test_wrong_type_is_reported_at_the_value(tmp_path: Path) -> None:
    assert _problems(tmp_path, GOOD.replace("weight: 10", "weight: ten")) == [
        "sample.yaml:5:9: weight: Expected `int`, got `str`"
    ]


def test_unknown_rule_kind_is_reported_at_the_kind(tmp_path: Path) -> None:
    assert _problems(tmp_path, GOOD.replace("kind: count", "kind: tally")) == [
        "sample.yaml:7:9: check.kind: Invalid value 'tally'"
    ]


def test_missing_field_is_reported_at_its_mapping(tmp_path: Path) -> None:
    assert _problems(tmp_path, GOOD.replace("  at_least: 1\n", "")) == [
        "sample.yaml:7:3: check: Object missing required field `at_least`"
    ]


def test_bad_date_is_reported_at_the_date(tmp_path: Path) -> None:
    text = GOOD.replace("weight: 10\n", "weight: 10\neffective_from: 2025-02-30\n")
    assert _problems(tmp_path, text) == [
        "sample.yaml:6:17: effective_from: Invalid RFC3339 encoded date"
    ]


def test_unknown_name_in_a_predicate_is_reported_at_the_name(tmp_path: Path) -> None:
    text = GOOD.replace("\"kind == 'regular'\"", "\"kind == 'regular' and held_on_sunday\"")
    (problem,) = _problems(tmp_path, text)
    assert problem.startswith("sample.yaml:9:36: unknown name `held_on_sunday`; known names: ")


def test_call_in_a_predicate_is_refused_as_unsafe(tmp_path: Path) -> None:
    text = GOOD.replace("\"kind == 'regular'\"", "\"__import__('os').system('true')\"")
    (problem,) = _problems(tmp_path, text)
    assert problem.startswith("sample.yaml:9:14: `__import__('os').system('true')` is not allowed")


def test_attribute_access_in_a_predicate_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("\"kind == 'regular'\"", "\"kind.__class__ == 'x'\"")
    (problem,) = _problems(tmp_path, text)
    assert problem.startswith("sample.yaml:9:14: `kind.__class__` is not allowed")


def test_misspelt_meeting_kind_is_caught_at_load(tmp_path: Path) -> None:
    text = GOOD.replace("'regular'", "'regulr'")
    assert _problems(tmp_path, text) == [
        "sample.yaml:9:22: `kind` is never 'regulr'; it is one of committee, regular, thematic"
    ]


def test_syntax_error_in_a_predicate_points_into_the_text(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, GOOD.replace("\"kind == 'regular'\"", '"kind =="'))
    assert problem.startswith("sample.yaml:9:")
    assert "invalid expression" in problem


def test_unknown_message_placeholder_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace('en: "{period}"', 'en: "{period} {member}"')
    (problem,) = _problems(tmp_path, text)
    assert problem.startswith("sample.yaml:11:47: unknown placeholder `{member}`")


def test_rule_id_must_equal_the_file_name(tmp_path: Path) -> None:
    assert _problems(tmp_path, GOOD, name="other.yaml") == [
        "other.yaml:1:5: rule id `sample` must equal the file name `other`"
    ]


def test_duplicate_rule_ids_are_reported(tmp_path: Path) -> None:
    (tmp_path / "sample.yaml").write_text(GOOD, encoding="utf-8")
    problems = _problems(tmp_path, GOOD, name="zz-copy.yaml")
    assert problems == [
        f"zz-copy.yaml:1:5: duplicate rule id `sample`, also in {tmp_path}/sample.yaml"
    ]


def test_duplicate_yaml_keys_are_reported(tmp_path: Path) -> None:
    assert _problems(tmp_path, GOOD.replace("weight: 10\n", "weight: 10\nweight: 5\n")) == [
        "sample.yaml:6:1: duplicate key `weight`"
    ]


def test_invalid_yaml_is_reported_where_the_parser_stopped(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, GOOD.replace("severity: major", "severity: [major"))
    assert problem.startswith("sample.yaml:")
    assert "invalid YAML" in problem


def test_all_faults_of_a_folder_are_reported_together(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        GOOD.replace("id: sample", "id: a").replace("weight: 10", "weight: -1")
    )
    problems = _problems(tmp_path, GOOD.replace("kind: count", "kind: tally"))
    assert [p.split(":")[0] for p in problems] == ["a.yaml", "sample.yaml"]


def test_score_bands_must_descend_to_zero(tmp_path: Path) -> None:
    (tmp_path / "sample.yaml").write_text(GOOD, encoding="utf-8")
    bands = "name: p\nbasis: b\nbands:\n  - {band: good, at_least: 50}\n"
    bands += "  - {band: best, at_least: 90}\n"
    assert _problems(tmp_path, bands, name="pack.yaml") == [
        "pack.yaml:4:3: bands must go from the highest `at_least` down to a last band at 0"
    ]


def test_case_file_must_name_a_rule_of_the_pack(tmp_path: Path) -> None:
    shutil.copytree(RULES, tmp_path / "rules")
    (tmp_path / "rules/tests/unknown.yaml").write_text(
        "rule: unknown\ncases:\n  - {name: x, until: 2024-01-01}\n", encoding="utf-8"
    )
    pack = read_rules(tmp_path / "rules")
    assert [str(p) for p in problems_of(tmp_path / "rules", pack)] == [
        f"{tmp_path}/rules/tests/unknown.yaml:1:7: no rule `unknown` in the pack"
    ]


def test_case_with_an_impossible_meeting_is_reported(tmp_path: Path) -> None:
    shutil.copytree(RULES, tmp_path / "rules")
    (tmp_path / "rules/tests/attendance-rate.yaml").write_text(
        "rule: attendance-rate\ncases:\n  - name: x\n    until: 2024-01-01\n    meetings:\n"
        "      - {meeting_id: m, cell_id: c, held_at: '2024-01-01T00:00:00Z',"
        " members_present: 11}\n",
        encoding="utf-8",
    )
    pack = read_rules(tmp_path / "rules")
    (problem,) = problems_of(tmp_path / "rules", pack)
    assert str(problem).startswith(
        f"{tmp_path}/rules/tests/attendance-rate.yaml:6:7: invalid meeting"
    )


def test_unknown_cell_attribute_in_applies_to_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace("weight: 10\n", "weight: 10\napplies_to: has_commitee\n")
    (problem,) = _problems(tmp_path, text)
    assert problem.startswith(
        "sample.yaml:6:13: unknown name `has_commitee`; did you mean `has_committee`? known "
        "names: cell_id"
    )


PARAMS = GOOD.replace("weight: 10\n", "weight: 10\nparams: {min_meetings: 1, min_ratio: 0.85}\n")


def test_a_threshold_may_name_a_param(tmp_path: Path) -> None:
    (tmp_path / "sample.yaml").write_text(PARAMS.replace("at_least: 1", "at_least: min_meetings"))
    assert read_rules(tmp_path).rules[0].params == {"min_meetings": 1, "min_ratio": 0.85}


def test_a_threshold_naming_no_param_is_reported(tmp_path: Path) -> None:
    text = PARAMS.replace("at_least: 1", "at_least: min_meeting")
    assert _problems(tmp_path, text) == [
        "sample.yaml:11:13: no param `min_meeting`; the rule's params: min_meetings, min_ratio"
    ]


def test_a_count_threshold_needs_a_whole_number(tmp_path: Path) -> None:
    text = PARAMS.replace("at_least: 1", "at_least: min_ratio")
    assert _problems(tmp_path, text) == [
        "sample.yaml:11:13: param `min_ratio` holds 0.85; this needs a whole number"
    ]


@pytest.mark.parametrize(
    ("typed", "column"),
    [("cần trên 0,85", 35), ("cần trên 85%", 35), ("cần trên 0.85", 35), ("ít nhất 1 lần", 34)],
)
def test_a_text_may_not_type_a_number_a_param_holds(
    tmp_path: Path, typed: str, column: int
) -> None:
    text = PARAMS.replace('vi: "Tháng {period}"', f'vi: "{{period}}: {typed}"')
    (problem,) = _problems(tmp_path, text)
    number = typed.split()[-1].removesuffix("%") if "%" not in typed else "85"
    number = {"lần": "1"}.get(number, number)
    assert problem.startswith(f"sample.yaml:12:{column}: `{number}` is what param `min_")
    assert problem.endswith("so the text follows the param")


def test_a_text_shows_a_param_through_its_placeholder(tmp_path: Path) -> None:
    text = PARAMS.replace('vi: "Tháng {period}"', 'vi: "{period}: cần trên {min_ratio:percent}"')
    (tmp_path / "sample.yaml").write_text(text)
    assert read_rules(tmp_path).rules[0].texts.message["vi"].names == {"period", "min_ratio"}


def test_a_format_a_value_cannot_take_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace('en: "{period}"', 'en: "{period:percent}"')
    assert _problems(tmp_path, text) == [
        "sample.yaml:11:38: `{period:percent}`: `period` takes no format"
    ]


def test_an_unknown_format_is_reported_with_the_ones_there_are(tmp_path: Path) -> None:
    text = GOOD.replace('en: "{period}"', 'en: "{period} {observed:percentage}"')
    assert _problems(tmp_path, text) == [
        "sample.yaml:11:47: `{observed:percentage}`: `observed` takes `number`, `percent`, "
        "`days`, `minutes`, `months`"
    ]


def test_a_param_may_not_hide_a_fact(tmp_path: Path) -> None:
    text = GOOD.replace("weight: 10\n", "weight: 10\nparams: {kind: 1}\n")
    assert _problems(tmp_path, text) == [
        "sample.yaml:6:16: param `kind` would hide the name of a fact or a text"
    ]


def test_every_fault_of_a_file_is_reported_not_only_the_first(tmp_path: Path) -> None:
    text = (
        GOOD.replace("weight: 10", "weight: ten")
        .replace("severity: major", "severity: grave\nmode: enforced")
        .replace("  at_least: 1\n", "  at_least: 1\n  meeting: x\n")
    )
    assert _problems(tmp_path, text) == [
        "sample.yaml:4:11: severity: Invalid enum value 'grave'",
        "sample.yaml:5:7: mode: Invalid enum value 'enforced'",
        "sample.yaml:6:9: weight: Expected `int`, got `str`",
        "sample.yaml:12:3: check: Object contains unknown field `meeting`; did you mean "
        "`meetings`?",
    ]


def test_every_fault_of_a_rules_expressions_and_texts_is_reported(tmp_path: Path) -> None:
    text = (
        GOOD.replace("\"kind == 'regular'\"", "\"kind == 'regular' and members_presnt > 3\"")
        .replace("at_least: 1", "at_least: min_meeting")
        .replace('en: "{period}"', 'en: "{perod}"')
    )
    problems = _problems(tmp_path, text)
    assert [p.split(": ", 1)[1].split(";")[0] for p in problems] == [
        "unknown name `members_presnt`",
        "no param `min_meeting`",
        "unknown placeholder `{perod}`",
    ]
    assert "did you mean `members_present`?" in problems[0]
    assert "did you mean `{period}`?" in problems[2]
