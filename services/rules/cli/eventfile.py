"""Reading CloudEvents from a JSON-lines file into in-memory facts (the `--events` source)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path

from services.contracts.codec import InvalidEventError, decode_event
from services.rules.domain.store import InMemoryFacts

Rejected = Callable[[str], None]


def read_events(path: Path, rejected: Rejected, progress: Callable[[int], None]) -> InMemoryFacts:
    """Facts from every valid event in `path`; each invalid line is reported, never fatal.

    Blank lines are skipped. `progress` is called with the bytes read so far now and then.
    """
    facts = InMemoryFacts()
    apply, done = facts.apply, 0
    # Millions of long-lived records only grow the heap: cyclic GC passes would rescan them all
    # for nothing, so collection is paused while loading. (Decoding a batch of lines in one
    # call was measured too: slower than line by line, so it is not done.)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with path.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                done += len(line)
                if not number & 0xFFFF:
                    progress(done)
                if line.isspace():
                    continue
                try:
                    apply(decode_event(line))
                except InvalidEventError as exc:
                    rejected(f"{path}:{number}: {exc}")
    finally:
        if was_enabled:
            gc.enable()
    progress(done)
    return facts
