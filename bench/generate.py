"""Deterministic synthetic history for benchmarks: cells and their meetings as CloudEvents JSONL.

    python bench/generate.py --meetings 1000000 --out .chibo/bench/events.jsonl

The same arguments always give the same bytes. Cells meet roughly as real ones do (a regular
meeting most months, thematic ones most quarters, committee meetings where there is a
committee), with the contract's awkward cases mixed in: offsets other than +07:00,
redelivered duplicates, later corrections and retractions.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

CELL_TYPES = (
    "rural",
    "urban",
    "agency",
    "public_service",
    "enterprise",
    "military",
    "police",
    "other",
)
OFFSETS = ("+07:00", "+07:00", "+07:00", "+07:00", "Z", "-05:00")
FIRST_YEAR, YEARS = 2022, 4  # through 2025, so the 2025-10-28 duration rule applies too

_encoder = msgspec.json.Encoder()


def events(meetings: int, seed: int) -> Iterator[dict[str, Any]]:
    """CloudEvents for about `meetings` meeting records, cells first where they belong."""
    rng = random.Random(seed)
    made = 0
    serial = 0
    for number in itertools.count():
        cell_id = f"cell-{number:06d}"
        has_committee = rng.random() < 0.3
        year = FIRST_YEAR - rng.randrange(0, 3)
        established = f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        dissolved = None  # a few cells are dissolved; their later meetings must not be judged
        if rng.random() < 0.05:
            dissolved = f"{FIRST_YEAR + 1}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        yield _envelope(
            f"c-{cell_id}",
            "cell.registered",
            cell_id,
            "2021-06-01T00:00:00Z",
            {
                "cell_id": cell_id,
                "name": f"Chi bộ {number}",
                "org_id": f"org-{number % 97:02d}",
                "cell_type": rng.choice(CELL_TYPES),
                "has_committee": has_committee,
                "established_on": established,
                "dissolved_on": dissolved,
            },
        )
        for month in range(YEARS * 12):
            for kind in _kinds(rng, month, has_committee):
                if made >= meetings:
                    return
                serial += 1
                made += 1
                record = meeting(rng, f"m-{serial:08d}", cell_id, month, kind)
                event_id = f"e-{serial:08d}"
                yield _envelope(event_id, "meeting.held", cell_id, "2025-01-01T00:00:00Z", record)
                roll = rng.random()
                if roll < 0.01:  # a redelivery: same id, same content
                    yield _envelope(
                        event_id, "meeting.held", cell_id, "2025-01-01T00:00:00Z", record
                    )
                elif roll < 0.02:  # a correction recorded later
                    fixed = record | {"duration_minutes": record["duration_minutes"] + 15}
                    yield _envelope(
                        f"{event_id}-fix", "meeting.held", cell_id, "2025-01-02T00:00:00Z", fixed
                    )
                elif roll < 0.025:  # withdrawn by the source
                    yield _envelope(
                        f"{event_id}-del",
                        "meeting.retracted",
                        cell_id,
                        "2025-01-03T00:00:00Z",
                        {"meeting_id": record["meeting_id"], "cell_id": cell_id},
                    )


def _kinds(rng: random.Random, month: int, has_committee: bool) -> list[str]:
    kinds = ["regular"] if rng.random() < 0.95 else []
    if has_committee and rng.random() < 0.9:
        kinds.append("committee")
    if month % 3 == 1 and rng.random() < 0.8:
        kinds.append("thematic")
    return kinds


def meeting(
    rng: random.Random, meeting_id: str, cell_id: str, month: int, kind: str
) -> dict[str, Any]:
    """The data of one meeting of `kind` in the `month`-th month from FIRST_YEAR's January."""
    year, month_of_year = FIRST_YEAR + month // 12, month % 12 + 1
    total = rng.randrange(5, 40)
    exempt = rng.randrange(0, 3)
    # Absences fall on a few members, as they do in life, so streaks and repeat months occur.
    absent = [
        {"member_id": f"{cell_id}-p{rng.randrange(min(total, 6))}", "excused": rng.random() < 0.7}
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2)))
    ]
    absences = list({a["member_id"]: a for a in absent}.values())[: total - exempt]
    return {
        "meeting_id": meeting_id,
        "cell_id": cell_id,
        "kind": kind,
        "held_at": f"{year}-{month_of_year:02d}-{rng.randrange(1, 29):02d}T"
        f"{rng.randrange(0, 24):02d}:{rng.randrange(0, 60):02d}:00{rng.choice(OFFSETS)}",
        "duration_minutes": rng.choice((60, 90, 100, 120, 150)),
        "includes_thematic": kind == "regular" and rng.random() < 0.1,
        "members_total": total,
        "members_exempt": exempt,
        "members_present": total
        - exempt
        - len(absences)
        - rng.choice((0, 0, 0, 1)) * (len(absences) < total - exempt),
        "absences": absences,
        "topic_groups": rng.sample(range(1, 6), rng.randrange(1, 3)) if kind != "committee" else [],
        "criticism_held": rng.random() < 0.9,
        "hcm_study": rng.random() < 0.8,
    }


def _envelope(
    event_id: str, kind: str, subject: str, time: str, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "bench",
        "type": kind,
        "time": time,
        "subject": subject,
        "data": data,
    }


def write(out: BinaryIO, meetings: int, seed: int) -> None:
    """Write the events as JSON lines to `out`."""
    for event in events(meetings, seed):
        out.write(_encoder.encode(event))
        out.write(b"\n")


def main(argv: list[str] | None = None) -> int:
    """Generate the file named by `--out` (or write to stdout)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meetings", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1066)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.out is None:
        write(sys.stdout.buffer, args.meetings, args.seed)
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as out:
        write(out, args.meetings, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
