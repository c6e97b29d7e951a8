"""The benchmark's parts run on a small synthetic history, and its two sides agree."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bench import pages_bench
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


def test_pages_bench_loads_both_pages_and_replays_exactly_the_calls_they_make_on_twenty_cells(
    servers: Servers, clean: None
) -> None:
    run = pages_bench.measure(cells=20, per_worker=2, servers=servers)

    org_id, year = pages_bench.ROOT, pages_bench.YEAR
    by_name = sorted(range(20), key=lambda n: f"Chi bộ {n}")  # the table's order: 0, 1, 10, ...
    page = "%2C".join(f"{org_id}-cell-{n:05d}" for n in by_name)
    org_calls = sorted((c.service, c.target) for c in run.org.calls)
    assert org_calls == sorted(
        [
            ("rules", f"/orgs/{org_id}"),
            ("rules", f"/cells?org_id={org_id}&year={year}&limit=1000"),
            ("rules", f"/orgs/{org_id}/calendar?year={year}&cells={page}"),
            ("rules", f"/orgs/{org_id}/trend?year={year}"),
            ("workflow", "/workflows/inspection"),
            ("workflow", f"/cases?cells={page}&open=true&limit=200"),
        ]
    )  # one page of cells with their standing; months and cases of the table's page only
    case_id = run.case.path.removeprefix("/cases/")
    case_calls = [(c.service, c.target.split("/versions/")[0]) for c in run.case.calls]
    assert case_calls[0] == ("workflow", f"/cases/{case_id}")  # the rest need the case
    cell_id = f"{pages_bench.ROOT}-cell-00000"
    assert sorted(case_calls[1:]) == [
        ("rules", f"/cells/{cell_id}"),
        ("rules", f"/findings?cell_id={cell_id}&limit=200"),
        ("workflow", "/workflows/inspection"),
    ]
    for page in (run.org, run.case):
        assert (page.page.errors, page.apis.errors) == (0, 0)  # every answer a 200
        assert page.page.requests == page.apis.requests == 2 * pages_bench.CONCURRENCY
        assert min(page.page.p50_ms, page.page.p95_ms, page.apis.p50_ms, page.apis.p95_ms) > 0
    assert [row[0] for row in pages_bench.rows(run)][:2] == [
        "org page p50 (ms), c=8",
        "org page p95 (ms), c=8",
    ]
