"""A finding's size is bounded whatever the history: evidence lists are capped, with a count."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from tests.builders import cell, judge, meeting

START = datetime.fromisoformat("2026-01-01T00:00:00+07:00")


def test_a_streak_of_sixteen_thousand_meetings_gives_a_finding_of_bounded_size() -> None:
    # 16,000 regular meetings every 30 minutes, the same member excused from each of them.
    events = [cell("c1", established_on="2025-01-01")]
    for n in range(16_000):
        held_at = (START + timedelta(minutes=30 * n)).isoformat()
        absences = [{"member_id": "dv-7", "excused": True}]
        events.append(meeting(f"m-{n:05d}-{'x' * 52}", "c1", held_at, absences=absences))
    [streak] = [f for f in judge(events, "2027-01-01") if f.rule_id == "member-excused-streak"]
    assert streak.observed == 16_000
    assert streak.meeting_count == 16_000
    assert len(streak.meeting_ids) == 100  # the first of them, in order held
    assert streak.meeting_ids[0].startswith("m-00000-")
    assert len(msgspec.json.encode(streak)) < 16 * 1024
