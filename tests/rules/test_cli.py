"""`chibo rules ...` end to end on files: lint, test, schema, backtest, explain, score."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import msgspec
import pytest

from services.cli import main
from tests.builders import RULES, cell, meeting, monthly

FIELDS = {
    "rule_id",
    "cell_id",
    "scope",
    "status",
    "severity",
    "mode",
    "period_start",
    "period_end",
    "observed",
    "expected",
    "meeting_ids",
    "rule_version",
}


@pytest.fixture
def events_file(tmp_path: Path) -> Path:
    events = [
        cell("c1", established_on="2024-01-01"),
        *monthly("c1", date(2024, 1, 1), 2),
        meeting("apr", "c1", "2024-04-10T08:00:00+07:00", criticism_held=False),
    ]
    path = tmp_path / "events.jsonl"
    lines = [msgspec.json.encode(e) for e in events]
    lines.insert(1, b'{"specversion": "1.0", "type": "meeting.held"}')
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _edited(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the shipped rules folder with `old` replaced by `new` in one file; its path."""
    shutil.copytree(RULES, tmp_path / "rules")
    path = tmp_path / "rules" / file
    path.write_text(path.read_text().replace(old, new))
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["rules", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_lint_passes_on_the_shipped_pack(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "lint", str(RULES))
    assert (status, out) == (0, "")


def test_lint_fails_with_file_line_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _edited(tmp_path, "attendance-rate.yaml", "weight: 2", "weight: two")
    status, out, _ = _run(capsys, "lint", str(tmp_path / "rules"))
    assert (status, out) == (1, f"{path}:10:9: weight: Expected `int`, got `str`\n")


def test_authors_cases_pass(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "test", str(RULES))
    assert status == 0
    assert out.endswith(" passed, 0 failed\n")


def test_schema_describes_the_rule_format(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "schema")
    schema = json.loads(out)
    assert status == 0
    assert {"id", "check", "basis", "mode"} <= set(schema["$defs"]["Rule"]["properties"])


def test_backtest_prints_one_finding_per_line_and_reports_bad_lines(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _backtest(capsys, events_file)
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 0
    assert all(set(row) >= FIELDS for row in rows)
    assert {
        (r["rule_id"], r["scope"]) for r in rows if r["rule_id"].startswith(("regular", "crit"))
    } == {
        ("regular-meeting-monthly", "2024-03"),
        ("criticism-each-meeting", "meeting/apr"),
        ("regular-meeting-gap", "since/2024-02-11"),
    }
    assert err.startswith(f"{events_file}:2: ")  # and no progress bar: stderr is not a terminal


def test_backtest_from_date_and_table_format(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _backtest(capsys, events_file, "--from", "2024-04-01", "--format", "table")
    lines = out.splitlines()
    assert status == 0
    assert lines[0].split("\t")[:4] == ["±", "rule_id", "cell_id", "scope"]
    assert {line.split("\t")[3] for line in lines[1:]} == {"meeting/apr", "since/2024-02-11"}


def test_backtest_diff_shows_what_an_edit_would_change(
    events_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(RULES, tmp_path / "edited")
    gap = tmp_path / "edited/regular-meeting-gap.yaml"
    gap.write_text(gap.read_text().replace("max_days: 45", "max_days: 90"))
    edited = tmp_path / "edited"
    status, out, _ = _backtest(capsys, events_file, "--diff-against", str(RULES), rules=edited)
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 0
    assert [(r["change"], r["rule_id"], r["scope"]) for r in rows] == [
        ("removed", "regular-meeting-gap", "since/2024-02-11")
    ]


def _backtest(
    capsys: pytest.CaptureFixture[str], events: Path, *argv: str, rules: Path = RULES
) -> tuple[int, str, str]:
    """`chibo rules backtest` of an events file at 2024-05-01, with more arguments."""
    return _run(
        capsys, "backtest", "--events", str(events), "--until", "2024-05-01",
        "--rules", str(rules), *argv,
    )  # fmt: skip


def _explain(
    capsys: pytest.CaptureFixture[str], events_file: Path, rule: str, scope: str
) -> tuple[int, str]:
    """`chibo rules explain` of cell c1 of the events file, at 2024-05-01."""
    status, out, _ = _run(
        capsys, "explain", "--events", str(events_file), "--cell", "c1", "--rule", rule,
        "--scope", scope, "--until", "2024-05-01", "--rules", str(RULES),
    )  # fmt: skip
    return status, out


# What `explain` prints, word for word: read them as an inspector would.
EXPLAINED = Path(__file__).parent / "explained"


def test_explain_gives_the_verdict_in_plain_words_with_the_meetings_by_date(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = _explain(capsys, events_file, "regular-meeting-gap", "since/2024-02-11")
    assert status == 0
    assert out == (EXPLAINED / "regular-meeting-gap.txt").read_text(encoding="utf-8")


def test_explain_says_why_a_scope_was_not_judged(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = _explain(capsys, events_file, "committee-meeting-monthly", "2024-03")
    assert status == 0
    assert out == (EXPLAINED / "committee-not-judged.txt").read_text(encoding="utf-8")


def test_score_rates_each_cell(events_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(
        capsys,
        "score",
        "--events",
        str(events_file),
        "--year",
        "2024",
        "--format",
        "jsonl",
        "--rules",
        str(RULES),
    )
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert status == 0
    assert (row["cell_id"], row["deductions"]["regular-meeting-monthly"]) == ("c1", 90)
    assert (row["score"], row["band"]) == (0, "not_complete")


def test_backtest_refuses_a_line_holding_two_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, two = (msgspec.json.encode(cell(c)) for c in ("a", "b"))
    path = tmp_path / "events.jsonl"
    path.write_bytes(one + b"\n\n" + one + b"," + two + b"\n")
    status, out, err = _run(
        capsys, "backtest", "--events", str(path), "--until", "2020-01-01", "--rules", str(RULES)
    )
    assert (status, out) == (0, "")
    assert err.startswith(f"{path}:3: ")


def test_failing_case_prints_a_readable_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = "tests/criticism-each-meeting.yaml"
    cases = _edited(tmp_path, file, "scope: meeting/silent", "scope: meeting/thematic")
    status, out, _ = _run(capsys, "test", str(tmp_path / "rules"))
    assert status == 1
    assert f"FAIL {cases}:3: a regular meeting without self-criticism" in out
    assert "  missing     criticism-each-meeting c1 meeting/thematic\n" in out
    assert "  unexpected  criticism-each-meeting c1 meeting/silent (observed 'false'" in out


def test_a_horizon_past_2100_is_refused_where_it_stands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Past the contract's span, periods overflow Python's dates: refused, not a traceback.
    cases = _edited(tmp_path, "tests/regular-meeting-monthly.yaml", "until: 2024-", "until: 9999-")
    status, out, _ = _run(capsys, "test", str(tmp_path / "rules"))
    assert status == 1
    assert out.startswith(f"{cases}:")
    assert "`until` must lie between 1930-01-01 and 2100-12-31" in out
    assert "Traceback" not in out


def test_lint_warns_of_a_rule_without_test_cases_and_still_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _edited(tmp_path, "attendance-rate.yaml", "", "")
    (tmp_path / "rules/tests/attendance-rate.yaml").unlink()
    status, out, _ = _run(capsys, "lint", str(tmp_path / "rules"))
    assert (status, out) == (
        0,
        f"{tmp_path}/rules/attendance-rate.yaml:1:1: warning: rule `attendance-rate` has no "
        "test cases; add tests/attendance-rate.yaml\n",
    )
