"""`./dev bench`: run every benchmark in bench/ and print one table.

    python -m bench [--meetings N] [--rules DIR] [--live-events N]

On the same synthetic history (`bench/generate.py`, kept under `.chibo/bench/`) and in the same
run: the backtest end to end from the stored facts (`--db`) and from the events file
(`--events`), each beside the SQL baseline (`bench/sql_baseline.py`); the backtest's peak memory
beside the issue's 1.5 GB budget; and each rule's violations beside the baseline's count. Any
disagreement between the backtest and SQL is printed loudly and makes the exit status 1.

Then the live figures: events through the running rules service beside raw JetStream
fetch+ack (`bench/ingest_bench.py`), a spreadsheet through `chibo import` beside the same events
posted as JSON (`bench/import_bench.py`), workflow transitions over HTTP beside a bare endpoint
doing one PostgreSQL round trip (`bench/workflow_bench.py`), and the org and case pages at 8
concurrent users beside the API calls each makes, replayed alone (`bench/pages_bench.py`), each
baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from bench import (
    backtest_bench,
    import_bench,
    ingest_bench,
    pages_bench,
    sql_baseline,
    workflow_bench,
)
from bench.agreement import disagreements, violations_in
from bench.database import bench_database, load

MEMORY_BUDGET_MB = 1536.0
Row = tuple[str, float, str, float, float]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the table; 1 if the backtest and SQL disagree."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--meetings", type=int, default=300_000, help="default: 300000")
    parser.add_argument("--rules", type=Path, default=Path("rules"), metavar="DIR")
    parser.add_argument(
        "--live-events", type=int, default=50_000, help="meetings for the live ingest bench"
    )
    parser.add_argument(
        "--import-rows", type=int, default=100_000, help="rows of the spreadsheet import bench"
    )
    args = parser.parse_args(argv)
    meetings = args.meetings
    _note(f"generating {meetings} meetings (once; kept under {backtest_bench.DATA})")
    events = backtest_bench.data_file(meetings)
    with bench_database() as url:
        _note("loading them into PostgreSQL through store() (once per data set; not timed)")
        loaded = load(url, events)
        _note("SQL baseline")
        sql = sql_baseline.measure(url, date.fromisoformat(backtest_bench.HORIZON))
        _note("backtest --db")
        by_db = backtest_bench.measure(meetings, db=url, rules=args.rules)
    _note("backtest --events")
    by_events = backtest_bench.measure(meetings, rules=args.rules)
    found = violations_in(Path(by_db.findings))
    rows = _rows(meetings, sql, by_db, by_events, found)
    _note(f"live ingest: {args.live_events} events through the rules service")
    rows += ingest_bench.measure(args.live_events)
    _note(f"spreadsheet import: {args.import_rows} rows beside the same events as JSON")
    rows += import_bench.measure(args.import_rows)
    _note("workflow transitions over HTTP at concurrency 32")
    rows += _workflow_rows(workflow_bench.measure())
    _note("the org and case pages of 2,000 cells at 8 concurrent users, beside their API calls")
    rows += pages_bench.rows(pages_bench.measure())
    print(_table(rows))
    load_note = f"loaded in {loaded:.1f} s" if loaded is not None else "already loaded"
    print(
        f"\n{meetings} meetings, horizon {backtest_bench.HORIZON}; {load_note}. Ratio: backtest"
        " time / SQL time (target <= 1.5); memory / budget; violations / SQL's (1 = agree);"
        " a page / its API calls (target <= 1.5)."
    )
    problems = disagreements(found, sql.violations)
    if violations_in(Path(by_events.findings)) != found:
        problems.append("MISMATCH: backtest --events and --db found different violations")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def _rows(
    meetings: int,
    sql: sql_baseline.SqlRun,
    by_db: backtest_bench.Measurement,
    by_events: backtest_bench.Measurement,
    found: sql_baseline.Violations,
) -> list[Row]:
    sql_rate = meetings / sql.seconds
    rows: list[Row] = []
    for run in (by_db, by_events):
        name = f"backtest --{run.source}"
        rate = run.meetings_per_second
        rows += [
            (f"{name} (s)", run.seconds, "SQL (s)", sql.seconds, run.seconds / sql.seconds),
            (f"{name} (meetings/s)", rate, "SQL (meetings/s)", sql_rate, sql_rate / rate),
            (
                f"{name} peak memory (MB)",
                run.peak_memory_mb,
                "budget (MB)",
                MEMORY_BUDGET_MB,
                run.peak_memory_mb / MEMORY_BUDGET_MB,
            ),
        ]
    for rule_id in sorted(found.keys() | sql.violations.keys()):
        ours, theirs = len(found.get(rule_id, ())), len(sql.violations.get(rule_id, ()))
        ratio = ours / theirs if theirs else float(ours == 0)
        rows.append((f"violations {rule_id}", ours, "SQL", theirs, ratio))
    return rows


def _workflow_rows(run: workflow_bench.Measurement) -> list[Row]:
    ours, base = run.transitions, run.baseline
    return [
        ("workflow transitions/s", ours.per_second, "1 PG round trip/s", base.per_second,
         ours.per_second / base.per_second),
        ("workflow transition p50 (ms)", ours.p50_ms, "1 PG round trip", base.p50_ms,
         ours.p50_ms / base.p50_ms),
        ("workflow transition p99 (ms)", ours.p99_ms, "target (ms)", 50.0, ours.p99_ms / 50),
    ]  # fmt: skip


def _table(rows: list[Row]) -> str:
    header = f"{'figure':<50}{'value':>12}  {'baseline':<18}{'value':>12}{'ratio':>8}"
    lines = [header, "-" * len(header)]
    for figure, value, baseline, base_value, ratio in rows:
        lines.append(
            f"{figure:<50}{_number(value):>12}  {baseline:<18}{_number(base_value):>12}"
            f"{ratio:>8.2f}"
        )
    return "\n".join(lines)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or value == int(value) else f"{value:.2f}"


def _note(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
