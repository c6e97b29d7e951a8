"""Backtest throughput and peak memory on synthetic history, end to end through the CLI.

    python -m bench.backtest_bench --meetings 1000000

Runs `chibo rules backtest` as a child process on the file `bench/generate.py` writes (made
once, then reused), with findings sent to /dev/null, and reports wall time, meetings per
second and the child's peak resident memory. `measure()` is importable so that the bench
runner can print these figures beside the SQL baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import msgspec

from bench.generate import write

DATA = Path(".chibo/bench")
HORIZON = "2025-01-01"


class Measurement(msgspec.Struct, frozen=True):
    """One backtest run."""

    meetings: int
    seconds: float
    meetings_per_second: float
    peak_memory_mb: float
    findings: int


def data_file(meetings: int, seed: int = 1066) -> Path:
    """The synthetic events file for `meetings` meetings, generated if missing."""
    path = DATA / f"events-{meetings}-{seed}.jsonl"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with partial.open("wb") as out:
            write(out, meetings, seed)
        partial.rename(path)
    return path


def measure(meetings: int, rules: Path = Path("rules")) -> Measurement:
    """Time one backtest of `meetings` meetings in a fresh interpreter."""
    events = data_file(meetings)
    command = [
        sys.executable,
        "-m",
        "services.cli",
        "rules",
        "backtest",
        "--events",
        str(events),
        "--until",
        HORIZON,
        "--rules",
        str(rules),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return Measurement(
        meetings=meetings,
        seconds=round(seconds, 2),
        meetings_per_second=round(meetings / seconds),
        peak_memory_mb=round(peak_kb / 1024, 1),
        findings=done.stdout.count(b"\n"),
    )


def main(argv: list[str] | None = None) -> int:
    """Measure and print one table row per figure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meetings", type=int, default=1_000_000)
    parser.add_argument("--rules", type=Path, default=Path("rules"))
    args = parser.parse_args(argv)
    result = measure(args.meetings, args.rules)
    print(f"{'figure':<34}{'value':>14}")
    print(f"{'backtest wall time (s)':<34}{result.seconds:>14}")
    print(f"{'backtest meetings per second':<34}{result.meetings_per_second:>14}")
    print(f"{'backtest peak memory (MB)':<34}{result.peak_memory_mb:>14}")
    print(f"{'findings (open)':<34}{result.findings:>14}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
