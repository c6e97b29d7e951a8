"""Hostile or careless rule packs are refused at file:line:col, quickly, without a traceback:
files that are not UTF-8, expressions nested or sized to exhaust the engine, YAML aliases that
recurse or multiply, links that lead out of the folder."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from services.cli import main
from services.rules.adapters.files import read_rules
from services.rules.errors import RuleFileError
from tests.rules.test_lint import GOOD, _problems


def _lint(capsys: pytest.CaptureFixture[str], folder: Path) -> tuple[int, str]:
    started = time.monotonic()
    status = main(["rules", "lint", str(folder)])
    out, err = capsys.readouterr()
    assert time.monotonic() - started < 5, "lint must finish quickly"
    assert "Traceback" not in out + err
    return status, out + err


def test_a_file_that_is_not_utf8_is_refused_where_it_stops(tmp_path: Path) -> None:
    (tmp_path / "sample.yaml").write_bytes(GOOD.encode().replace("Mẫu".encode(), b"M\xe1u"))
    with pytest.raises(RuleFileError) as caught:
        read_rules(tmp_path)
    [problem] = [str(p).removeprefix(f"{tmp_path}/") for p in caught.value.problems]
    assert problem.startswith("sample.yaml:2:")
    assert "not UTF-8" in problem


def test_an_expression_nested_five_thousand_deep_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("\"kind == 'regular'\"", '"' + "not " * 5000 + 'criticism_held"')
    [problem] = _problems(tmp_path, text)
    assert problem.startswith("sample.yaml:9:")
    assert "nested" in problem or "too long" in problem


def test_string_arithmetic_that_would_allocate_gigabytes_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("\"kind == 'regular'\"", "\"('x' * 100000000) != kind\"")
    [problem] = _problems(tmp_path, text)
    assert problem.startswith("sample.yaml:9:")
    assert "numbers" in problem


@pytest.mark.parametrize(
    "literal",
    ["'" + "x" * 300 + "'", "(" + ", ".join(["1"] * 200) + ")", "1" + "0" * 20],
)
def test_oversized_literals_are_refused(tmp_path: Path, literal: str) -> None:
    text = GOOD.replace("\"kind == 'regular'\"", f'"duration_minutes in {literal}"')
    [problem] = _problems(tmp_path, text)
    assert problem.startswith("sample.yaml:9:")


def test_a_self_referencing_anchor_is_refused(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, GOOD.replace("id: sample", "id: &x [*x]"))
    assert problem.startswith("sample.yaml:1:")
    assert "alias" in problem


def test_a_billion_laughs_is_refused_at_once(tmp_path: Path) -> None:
    lines = ["a0: &a0 [lol]"]
    for n in range(1, 10):
        lines.append(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]")
    started = time.monotonic()
    problems = _problems(tmp_path, GOOD + "\n".join(lines) + "\n")
    assert time.monotonic() - started < 2
    assert any("alias" in p for p in problems)


def test_a_link_out_of_the_rules_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(GOOD, encoding="utf-8")
    folder = tmp_path / "rules"
    folder.mkdir()
    os.symlink(outside, folder / "sample.yaml")
    status, out = _lint(capsys, folder)
    assert status == 1
    assert f"{folder}/sample.yaml:1:1:" in out
    assert "outside" in out


def test_lint_reports_hostile_files_as_problems_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_bytes(b"id: a\xff\n")
    (tmp_path / "b.yaml").write_text(GOOD.replace("id: sample", "id: &x [*x]"), encoding="utf-8")
    deep = GOOD.replace("id: sample", "id: c").replace(
        "\"kind == 'regular'\"", '"' + "not " * 5000 + 'criticism_held"'
    )
    (tmp_path / "c.yaml").write_text(deep, encoding="utf-8")
    status, out = _lint(capsys, tmp_path)
    assert status == 1
    assert [line.split(":")[0] for line in out.splitlines()[:3]] == [
        f"{tmp_path}/a.yaml", f"{tmp_path}/b.yaml", f"{tmp_path}/c.yaml"
    ]  # fmt: skip
