"""A workflow drawn for a page: the states one under another in the order the definition lists
them, a move to the next state as a short arrow, every other move along a lane to the right,
one lane per state it leads to. Pure layout; a template turns it into SVG.

One column reads on a phone as well as on a desk, and no line crosses a state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

BOX_WIDTH = 240
BOX_HEIGHT = 34
ROW = 52  # from one state's top to the next one's
LANE = 16  # between two lanes
MARGIN = 12


@dataclass(frozen=True)
class Box:
    """A state: where it is drawn and how it is marked."""

    name: str
    title: str
    x: int
    y: int
    current: bool
    visited: bool
    final: bool

    @property
    def middle(self) -> int:
        """The height of the box's middle line."""
        return self.y + BOX_HEIGHT // 2


@dataclass(frozen=True)
class Arrow:
    """A move drawn as an SVG path (`d`), with the names of the triggers it stands for."""

    d: str
    triggers: tuple[str, ...]
    back: bool


@dataclass(frozen=True)
class Diagram:
    """Everything the SVG needs: its size, the boxes and the arrows."""

    width: int
    height: int
    boxes: list[Box]
    arrows: list[Arrow] = field(default_factory=list)


def layout(
    states: Sequence[tuple[str, str, bool]],
    moves: Iterable[tuple[str, str, str]],
    current: str,
    visited: Iterable[str] = (),
) -> Diagram:
    """Lay out `states` ((name, title, final) in order) and `moves` ((trigger's title, source,
    target));
    `current` is marked, `visited` shaded. A move that stays in its state is not drawn: its
    trigger records data without moving the case."""
    seen = set(visited)
    boxes = [
        Box(name, title, MARGIN, MARGIN + i * ROW, name == current, name in seen, final)
        for i, (name, title, final) in enumerate(states)
    ]
    at = {box.name: box for box in boxes}
    row = {box.name: i for i, box in enumerate(boxes)}
    by_pair: dict[tuple[str, str], list[str]] = {}
    for trigger, source, target in moves:
        if source != target and source in at and target in at:
            by_pair.setdefault((source, target), []).append(trigger)

    arrows: list[Arrow] = []
    lanes: dict[str, int] = {}  # the lane of each state reached from afar
    centre = MARGIN + BOX_WIDTH // 2
    right = MARGIN + BOX_WIDTH
    for (source, target), triggers in by_pair.items():
        a, b = at[source], at[target]
        if row[target] == row[source] + 1:
            arrows.append(Arrow(f"M{centre},{a.y + BOX_HEIGHT} V{b.y - 2}", tuple(triggers), False))
            continue
        lane = lanes.setdefault(target, len(lanes))
        x = right + LANE * (lane + 1)
        # Lanes leave and enter a state at slightly different heights, so two stay apart.
        shift = (lane % 3 - 1) * 8
        d = f"M{right},{a.middle + shift} H{x} V{b.middle + shift} H{right + 2}"
        arrows.append(Arrow(d, tuple(triggers), row[target] < row[source]))
    width = right + LANE * (len(lanes) + 1) + MARGIN
    height = MARGIN * 2 + ROW * (len(boxes) - 1) + BOX_HEIGHT
    return Diagram(width, height, boxes, arrows)
