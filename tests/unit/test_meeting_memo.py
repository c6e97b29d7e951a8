"""The memo of judged meetings keeps the most recently used, up to its limit."""

from __future__ import annotations

from datetime import UTC, datetime

from services.contracts.events import MeetingHeld, MeetingKind
from services.rules.adapters.repository import MeetingMemo
from services.rules.domain.facts import MeetingFact, meeting_fact


def fact(meeting_id: str) -> MeetingFact:
    held_at = datetime(2025, 3, 1, 12, tzinfo=UTC)
    held = MeetingHeld(
        meeting_id, "c1", MeetingKind.regular, held_at, 90, False, 10, 0, 10, [], [1], True, True
    )
    return meeting_fact(held)


def test_the_least_recently_used_meeting_goes_first() -> None:
    memo = MeetingMemo(kept=2)
    memo.put("e-1", fact("m-1"))
    memo.put("e-2", fact("m-2"))
    assert memo.get("e-1") == fact("m-1")  # now e-2 is the least recently used
    memo.put("e-3", fact("m-3"))

    assert (memo.get("e-2"), len(memo)) == (None, 2)
    assert memo.get("e-1") == fact("m-1")
    assert memo.get("e-3") == fact("m-3")


def test_forgetting_drops_only_the_events_named() -> None:
    memo = MeetingMemo()
    memo.put("e-1", fact("m-1"))
    memo.put("e-2", fact("m-2"))
    memo.forget(["e-1", "e-unknown"])
    assert (memo.get("e-1"), memo.get("e-2"), len(memo)) == (None, fact("m-2"), 1)
