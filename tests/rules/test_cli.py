"""`chibo rules ...` end to end on files: lint, test, schema, backtest, explain, score."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
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
    status, out, err = _backtest(capsys, events_file, "--diff-against", str(RULES), rules=edited)
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 0
    assert [(r["change"], r["rule_id"], r["scope"]) for r in rows] == [
        ("removed", "regular-meeting-gap", "since/2024-02-11")
    ]
    # The impact follows on stderr; no year has closed by the horizon, so no score moves.
    assert err.splitlines()[1:] == [
        "Quy tắc thay đổi / Rules changed: regular-meeting-gap",
        "Đã xét 1 chi bộ / Cells judged: 1",
        "Quy tắc / Rule       Phát sinh / Opened  Hết / Resolved",
        "regular-meeting-gap  0                   1",
        "Tổng / Total         0                   1",
        "Điểm thay đổi: 0 / Score changes: 0; xếp loại thay đổi: 0 / band changes: 0",
    ]


def test_backtest_diff_tells_the_scores_of_closed_years_that_move(
    events_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = _edited(tmp_path, "regular-meeting-monthly.yaml", "weight: 10", "weight: 1").parent
    argv = ["--events", str(events_file), "--until", "2025-05-01", "--year", "2024"]
    scores = [_run(capsys, "score", *argv, "--rules", str(r))[1] for r in (RULES, edited)]
    # 2024 has closed: nine months without a regular meeting cost 90 points before, 9 now;
    # the cell stays below the band above.
    assert [s.splitlines()[1].split("\t")[3:5] for s in scores] == [
        ["0", "not_complete"], ["48", "not_complete"]
    ]  # fmt: skip
    status, _, err = _run(
        capsys, "backtest", "--events", str(events_file), "--until", "2025-05-01",
        "--rules", str(edited), "--diff-against", str(RULES),
    )  # fmt: skip
    assert status == 0
    assert err.splitlines()[-3:] == [
        "Điểm thay đổi: 1 / Score changes: 1; xếp loại thay đổi: 0 / band changes: 0",
        "Chi bộ / Cell  Năm / Year  Điểm / Score  Xếp loại / Band",
        "c1             2024        0 → 48        not_complete → not_complete",
    ]


def test_backtest_ends_with_a_summary_per_rule(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _backtest(capsys, events_file, "--passes")
    assert status == 0
    summary = err.splitlines()[1:]  # after the report of the bad line
    assert summary[:2] == [
        "Đã xét 1 chi bộ / Cells judged: 1",
        "Quy tắc / Rule              Vi phạm / Violations  Đạt / Passed",
    ]
    # Every rule of the pack has its row, those that judged nothing too.
    assert summary[2:-1] == [
        "attendance-rate             0                     3",
        "committee-meeting-monthly   0                     0",
        "criticism-each-meeting      1                     2",
        "hcm-study-quarterly         0                     1",
        "meeting-duration            0                     0",
        "member-excused-streak       0                     0",
        "member-unexcused-3-months   0                     0",
        "no-unexcused-absence        0                     3",
        "regular-meeting-gap         1                     3",
        "regular-meeting-monthly     1                     3",
        "thematic-meeting-quarterly  1                     0",
        "topic-groups-yearly         0                     0",
    ]
    assert summary[-1] == "Tổng / Total                4                     15"


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


def test_backtest_draws_its_progress_on_a_terminal_only(events_file: Path, tmp_path: Path) -> None:
    """On a terminal the bars are drawn (and cleared); the findings on stdout stay clean."""
    out = tmp_path / "out.jsonl"
    leader, follower = pty.openpty()
    argv = ["rules", "backtest", "--events", str(events_file), "--until", "2024-05-01"]
    with out.open("wb") as stdout:
        done = subprocess.run(
            [sys.executable, "-m", "services.cli", *argv],
            stdout=stdout, stderr=follower, timeout=60, check=False,
            env={**os.environ, "TERM": "xterm", "COLUMNS": "100"},
        )  # fmt: skip
    os.close(follower)
    drawn = b""
    while select.select([leader], [], [], 0.5)[0]:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed once everything was read
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert done.returncode == 0
    assert b"judging cells" in drawn
    assert b"reading events.jsonl" in drawn
    assert b"Cells judged: 1" in drawn
    assert all(json.loads(line)["cell_id"] == "c1" for line in out.read_text().splitlines())


def test_eval_judges_one_cell_by_one_rule_and_explains_each_scope(
    events_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--events", str(events_file), "--cell", "c1", "--until", "2024-05-01"]
    status, out, _ = _run(capsys, "eval", "regular-meeting-gap", *argv)
    assert status == 0
    blocks = out.split("\n\n")
    # The rule, its basis and the cell once, above the first scope; then each scope alone.
    assert blocks[0].startswith("Quy tắc / Rule         Không để quá 45 ngày giữa hai lần")
    assert [b.splitlines()[0] for b in blocks[1:4]] == [
        "Phạm vi / Scope        từ ngày 11/01/2024",
        "Phạm vi / Scope        từ ngày 11/02/2024",
        "Phạm vi / Scope        từ ngày 11/04/2024",
    ]
    assert blocks[2].splitlines()[2:8] == [
        "Kết luận / Verdict     vi phạm",
        "                       violated",
        "Yêu cầu / Required     Không để quá 45 ngày giữa hai lần sinh hoạt thường kỳ",
        "                       No more than 45 days between regular meetings",
        "Thực tế / Found        Chi bộ không sinh hoạt thường kỳ trong 60 ngày kể từ 11/02/2024,"
        " quá 45 ngày.",
        "                       No regular meeting for 60 days from 11 Feb 2024, more than 45"
        " days.",
    ]
    assert blocks[-1] == (
        "4 phạm vi đã đánh giá: 1 vi phạm, 3 đạt / 4 scopes judged: 1 violated, 3 passed\n"
    )


def test_eval_as_json_lines_and_its_refusals(
    events_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--events", str(events_file), "--cell", "c1", "--until", "2024-05-01"]
    argv += ["--rules", str(RULES)]
    status, out, _ = _run(capsys, "eval", "criticism-each-meeting", *argv, "--format", "jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    assert status == 0
    assert [(r["scope"]["vi"], r["verdict"]) for r in rows][-1] == (
        "buổi sinh hoạt thường kỳ ngày 10/04/2024", "violated"
    )  # fmt: skip
    status, _, err = _run(capsys, "eval", "regular-meeting-gaps", *argv)
    assert (status, err) == (
        1, f"no rule `regular-meeting-gaps` in {RULES}; did you mean `regular-meeting-gap`?\n"
    )  # fmt: skip
    status, out, _ = _run(capsys, "eval", "committee-meeting-monthly", *argv)
    assert (status, out) == (
        0,
        "committee-meeting-monthly · c1\nQuy tắc không áp dụng cho chi bộ này.\n"
        "The rule does not apply to this cell.\n",
    )
