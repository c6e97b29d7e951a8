"""How a fetched batch is split into concurrent lanes: never a cell or a meeting across two."""

from __future__ import annotations

from typing import Any, cast

from nats.aio.msg import Msg

from services.contracts.events import Event
from services.rules.consumer import split_into_lanes
from tests.builders import cell, meeting, retraction

LATER = "2025-02-01T00:00:00Z"


def _lanes(events: list[Event], count: int) -> list[list[str]]:
    tagged = [(cast(Msg, n), event) for n, event in enumerate(events)]
    return [[e.id for _, e in lane] for lane in split_into_lanes(tagged, count)]


def _where(lanes: list[list[str]]) -> dict[str, int]:
    return {event_id: n for n, lane in enumerate(lanes) for event_id in lane}


def test_cells_are_spread_over_lanes_each_whole_and_in_arrival_order() -> None:
    events: list[Any] = []
    for c in ("a", "b", "c", "d"):
        events += [cell(c, event_id=f"{c}-0")]
        events += [meeting(f"{c}-m{i}", c, f"2025-0{i}-10T08:00:00+07:00", event_id=f"{c}-{i}")
                   for i in range(1, 4)]  # fmt: skip
    lanes = _lanes(events, 2)
    assert len(lanes) == 2
    assert sorted(len(lane) for lane in lanes) == [8, 8]
    where = _where(lanes)
    for c in "abcd":
        assert {where[f"{c}-{i}"] for i in range(4)} == {where[f"{c}-0"]}
    order = [e.id for e in events]
    for lane in lanes:
        assert lane == sorted(lane, key=order.index)


def test_a_meeting_moved_to_another_cell_joins_both_cells_in_one_lane() -> None:
    events = [
        meeting("m", "y", "2025-03-10T08:00:00+07:00", event_id="held-in-y"),
        meeting("other", "z", "2025-03-10T08:00:00+07:00", event_id="z-1"),
        meeting("x-1", "x", "2025-03-11T08:00:00+07:00", event_id="x-1"),
        meeting("m", "x", "2025-03-10T08:00:00+07:00", time=LATER, event_id="moved-to-x"),
        retraction("m", "x", time="2025-03-01T00:00:00Z", event_id="retracted"),
    ]
    where = _where(_lanes(events, 4))
    assert where["held-in-y"] == where["moved-to-x"] == where["x-1"] == where["retracted"]
    assert where["z-1"] != where["held-in-y"]  # unrelated: free to go alongside


def test_one_lane_or_one_event_is_one_transaction() -> None:
    events = [meeting(f"m{i}", f"c{i}", "2025-03-10T08:00:00+07:00") for i in range(5)]
    assert len(_lanes(events, 1)) == 1
    assert _lanes(events[:1], 8) == [[events[0].id]]
    assert _lanes([], 2) == []
