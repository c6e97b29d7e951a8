"""The benchmark's parts run on a small synthetic history, and its two sides agree."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bench.agreement import disagreements, violations_in
from bench.database import load
from bench.generate import write
from bench.import_bench import measure_on
from bench.sql_baseline import measure
from services.cli import main
from services.dev.servers import Servers
from tests.builders import RULES


def test_sql_baseline_finds_exactly_the_backtests_violations_on_a_thousand_meetings(
    servers: Servers, clean: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = tmp_path / "events.jsonl"
    with events.open("wb") as out:
        write(out, 1000, seed=1066)
    url = servers.database_url

    loaded = load(url, events)
    again = load(url, events)
    sql = measure(url, date(2026, 1, 1))
    argv = ["rules", "backtest", "--db", "--database-url", url, "--until", "2026-01-01"]
    status = main([*argv, "--rules", str(RULES)])
    findings = tmp_path / "findings.jsonl"
    findings.write_text(capsys.readouterr().out)
    found = violations_in(findings)

    assert (status, again) == (0, None)  # loaded once, then kept
    assert loaded is not None
    assert disagreements(found, sql.violations) == []
    assert sum(map(len, found.values())) > 100


async def test_the_import_bench_imports_a_small_workbook_and_posts_the_same_events(
    servers: Servers, clean: None
) -> None:
    rows = await measure_on(servers.database_url, servers.nats_url, 120)

    (_, import_rate, _, json_rate, _), (_, import_seconds, _, _, _) = rows
    assert import_rate > 0
    assert json_rate > 0
    assert import_seconds > 0
