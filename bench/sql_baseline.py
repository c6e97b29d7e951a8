"""The SQL baseline: the default pack's verdicts computed by PostgreSQL with `GROUP BY` queries.

    python -m bench.sql_baseline --meetings 100000

Runs every query of `bench/sql_rules.py` over the stored facts, one after the other on one
connection, and fetches their violations to the client, as a report built on SQL would. The
time covers the queries and the fetching, not the loading of the data.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import defaultdict
from datetime import date

import asyncpg
import msgspec

from bench.sql_rules import QUERIES

Violations = dict[str, set[tuple[str, str]]]
"""Per rule id, the `(cell_id, scope)` of each violation."""


class SqlRun(msgspec.Struct, frozen=True):
    """One run of the baseline: how long it took and what it found."""

    seconds: float
    violations: Violations


def measure(url: str, horizon: date) -> SqlRun:
    """Run the baseline's queries once and time them, fetching every violation."""
    return asyncio.run(_measure(url, horizon))


async def _measure(url: str, horizon: date) -> SqlRun:
    conn = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        results = [await conn.fetch(query, horizon) for query in QUERIES.values()]
        seconds = time.perf_counter() - started
    finally:
        await conn.close()
    violations: Violations = defaultdict(set)
    for rows in results:
        for rule_id, cell_id, scope in rows:
            violations[rule_id].add((cell_id, scope))
    return SqlRun(seconds=seconds, violations=dict(violations))


def main(argv: list[str] | None = None) -> int:
    """Load the synthetic history if needed, run the baseline and print its counts."""
    from bench.backtest_bench import HORIZON, data_file
    from bench.database import bench_database, load

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meetings", type=int, default=100_000)
    args = parser.parse_args(argv)
    with bench_database() as url:
        load(url, data_file(args.meetings))
        run = measure(url, date.fromisoformat(HORIZON))
    print(f"{'SQL baseline (s)':<34}{run.seconds:>12.2f}")
    for rule_id, found in sorted(run.violations.items()):
        print(f"{rule_id:<34}{len(found):>12}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
