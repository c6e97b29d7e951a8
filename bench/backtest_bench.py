"""Backtest throughput and peak memory on synthetic history, end to end through the CLI.

    python -m bench.backtest_bench --meetings 1000000 [--db URL]

Runs `chibo rules backtest` as a child process, on the file `bench/generate.py` writes (made
once, then reused) or with `--db` on the facts stored from it, its findings written to a file
under `.chibo/bench/`, and reports wall time, meetings per second and the child's peak resident
memory. `measure()` runs that in a fresh interpreter of its own, so that the peak reported by
`getrusage(RUSAGE_CHILDREN)` is the backtest's alone, whatever else the caller ran before.
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
HORIZON = "2026-01-01"


class Measurement(msgspec.Struct, frozen=True):
    """One backtest run."""

    source: str
    meetings: int
    seconds: float
    meetings_per_second: float
    peak_memory_mb: float
    findings: str
    """The file holding the findings it printed."""


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


def measure(meetings: int, db: str | None = None, rules: Path = Path("rules")) -> Measurement:
    """One backtest of `meetings` meetings, from the events file or (`db`) the stored facts."""
    command = [sys.executable, "-m", "bench.backtest_bench", f"--meetings={meetings}"]
    command += [f"--rules={rules}", "--json", *([f"--db={db}"] if db else [])]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE)
    return msgspec.json.decode(done.stdout, type=Measurement)


def _run_once(meetings: int, db: str | None, rules: Path) -> Measurement:
    source = ["--db", "--database-url", db] if db else ["--events", str(data_file(meetings))]
    findings = DATA / f"findings-{'db' if db else 'events'}-{meetings}.jsonl"
    command = [sys.executable, "-m", "services.cli", "rules", "backtest", *source]
    command += ["--until", HORIZON, "--rules", str(rules)]
    with findings.open("wb") as out:
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=out, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return Measurement(
        source="db" if db else "events",
        meetings=meetings,
        seconds=round(seconds, 2),
        meetings_per_second=round(meetings / seconds),
        peak_memory_mb=round(peak_kb / 1024, 1),
        findings=str(findings),
    )


def main(argv: list[str] | None = None) -> int:
    """Measure one backtest; print its figures (as JSON with `--json`)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meetings", type=int, default=1_000_000)
    parser.add_argument("--rules", type=Path, default=Path("rules"))
    parser.add_argument("--db", metavar="URL", help="read the stored facts at URL (--db)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = _run_once(args.meetings, args.db, args.rules)
    if args.json:
        print(msgspec.json.encode(result).decode())
        return 0
    for name, value in msgspec.structs.asdict(result).items():
        print(f"{name:<24}{value!s:>40}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
