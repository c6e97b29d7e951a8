"""The benchmark's synthetic history is deterministic and honours the event contract."""

from __future__ import annotations

import io

from bench.generate import write
from services.contracts.codec import decode_event
from services.contracts.events import MeetingHeldEvent


def _generated(meetings: int, seed: int = 7) -> bytes:
    out = io.BytesIO()
    write(out, meetings, seed)
    return out.getvalue()


def test_same_arguments_give_the_same_bytes() -> None:
    assert _generated(300) == _generated(300)


def test_every_line_is_a_valid_event_and_the_meeting_count_is_exact() -> None:
    events = [decode_event(line) for line in _generated(500).splitlines()]
    held = {e.id for e in events if isinstance(e, MeetingHeldEvent) and not e.id.endswith("-fix")}
    assert len(held) == 500
