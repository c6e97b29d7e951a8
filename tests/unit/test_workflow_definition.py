"""Loading workflow definitions: the default loads; faults are refused at file:line:col."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.cli import main
from services.workflow.adapters.files import read_definition
from services.workflow.domain.machine import parse_definition, version_of
from services.workflow.errors import DefinitionError
from tests.conftest import ROOT

DEFAULT = ROOT / "rules" / "workflows" / "inspection.yaml"


def variant(tmp_path: Path, old: str, new: str) -> Path:
    """The default definition with one piece of text replaced, as `inspection.yaml`."""
    text = DEFAULT.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "inspection.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    """The faults loading `path` reports, as `file:line:col: message` lines."""
    with pytest.raises(DefinitionError) as caught:
        read_definition(path)
    return [str(p) for p in caught.value.problems]


def test_the_default_definition_loads_with_its_content_hash_as_version() -> None:
    loaded = read_definition(DEFAULT)
    assert loaded.definition.initial == "planned"
    assert loaded.version == version_of(DEFAULT.read_text(encoding="utf-8"))
    assert "cancel" in loaded.definition.triggers


def test_a_guard_outside_the_allow_list_is_refused_at_its_line(tmp_path: Path) -> None:
    path = variant(tmp_path, "guards: [team_has_leader]", "guards: [team_is_friendly]")
    [problem] = problems(path)
    line = 1 + path.read_text().splitlines().index(
        next(x for x in path.read_text().splitlines() if "team_is_friendly" in x)
    )
    assert problem.startswith(f"{path}:{line}:")
    assert "unknown guard `team_is_friendly`" in problem


def test_a_dotted_guard_path_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, "guards: [team_has_leader]", "guards: [os.system]")
    [problem] = problems(path)
    assert "guard `os.system` is a dotted path" in problem
    assert problem.split(":")[1] == "48"


def test_an_unknown_payload_field_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, "payload: {self_report: required}", "payload: {selfie: required}")
    assert "unknown payload field `selfie`" in problems(path)[0]


def test_a_move_to_an_undeclared_state_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, "to: dismissed}", "to: forgotten}")
    assert "`forgotten` is not one of the states" in problems(path)[0]


def test_an_extension_beyond_a_third_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, "max_extension_days: 6", "max_extension_days: 7")
    assert "at most a third of 20 days" in problems(path)[0]


def test_an_unknown_key_is_refused() -> None:
    with pytest.raises(DefinitionError, match="Object contains unknown field `colour`"):
        parse_definition("name: x\ntitle: t\ninitial: a\nstates: [a]\nfinal: []\ntriggers: {}\n"
                  "colour: red\n", "x.yaml")  # fmt: skip


def test_the_file_name_must_equal_the_definition_name(tmp_path: Path) -> None:
    path = tmp_path / "audit.yaml"
    path.write_text(DEFAULT.read_text(encoding="utf-8"), encoding="utf-8")
    assert "must equal the file name `audit`" in problems(path)[0]


def test_lint_prints_file_line_col_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = variant(tmp_path, "guards: [team_has_leader]", "guards: [builtins.eval]")
    assert main(["workflow", "lint", str(path)]) == 1
    assert capsys.readouterr().err.startswith(f"{path}:48:")


def test_lint_accepts_the_shipped_definitions_and_policy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["workflow", "lint", str(ROOT / "rules" / "workflows")]) == 0
    assert "1 policies" in capsys.readouterr().out


def test_a_duplicate_key_is_refused_where_it_stands(tmp_path: Path) -> None:
    # YAML keeps the last of two equal keys without a word: the author's first title would vanish.
    path = variant(tmp_path, "\ntitle:", "\ntitle: Kiểm tra chi bộ\ntitle:")
    [problem] = problems(path)
    line = 1 + next(
        n for n, x in enumerate(path.read_text().splitlines()) if x.startswith("title:")
    )
    assert problem == f"{path}:{line + 1}:1: duplicate key `title`"


def test_a_role_that_moves_no_case_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, "roles: [inspector, admin]", "roles: [viewer, admin]")
    [problem] = problems(path)
    assert "a viewer does not move cases" in problem


def test_a_stored_version_with_a_duplicate_key_still_loads(tmp_path: Path) -> None:
    # Accepted when its cases started, before files refused duplicate keys: they must go on.
    text = variant(tmp_path, "\ntitle:", "\ntitle: Kiểm tra chi bộ\ntitle:").read_text()
    with pytest.raises(DefinitionError):
        parse_definition(text, "inspection@old")
    assert parse_definition(text, "inspection@old", stored=True).definition.name == "inspection"


def test_a_label_for_a_state_or_field_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, "    proposed: Đề xuất", "    propsed: Đề xuất")
    assert "`propsed` is not one of the states" in problems(path)[0]
    path = variant(tmp_path, "    team.role.leader:", "    team.rank.leader:")
    assert "no payload field `team.rank.leader` to label" in problems(path)[0]
