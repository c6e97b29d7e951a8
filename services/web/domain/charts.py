"""Where the org page's two drawings put things: the heat map of cells by month and the trend
of each rule's share of compliant cells. Only geometry lives here, in the SVG's own units;
the templates write the SVG (autoescaped like every page) with the words and numbers
formatted for the reader, and the stylesheet gives the colours by class.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

HEAT_ROWS = 100
"""Cells the heat map draws at most, the first of the table's order; the table has them all."""

MARK_CLASSES = {
    "passed": "held",
    "violated": "missed",
    "not_ended": "not-judged",
    "not_active": "not-judged",
    "not_in_force": "not-judged",
    "before_start": "not-judged",
    "not_applicable": "not-judged",
}
"""Each calendar mark of the rules API as the heat map's class: held, missed or not judged."""


class Square(msgspec.Struct, frozen=True):
    """One cell's month: where it is drawn, and what it shows."""

    x: int
    y: int
    month: int
    mark: str
    kind: str  # held, missed, not-judged


class HeatRow(msgspec.Struct, frozen=True):
    """One cell's line of squares, its label's baseline at `y`."""

    cell_id: str
    name: str
    short: str
    y: int
    squares: list[Square]


class HeatMap(msgspec.Struct, frozen=True, kw_only=True):
    """The whole heat map: its size, the month columns' centres, its rows."""

    width: int
    height: int
    size: int
    label_width: int
    top: int
    columns: list[tuple[int, int]]  # (month, x of its centre)
    rows: list[HeatRow]
    shown: int
    total: int


SQUARE, GAP, LABEL_WIDTH, TOP, LABEL_CHARS = 24, 3, 180, 28, 20


def short(name: str, limit: int = LABEL_CHARS) -> str:
    """`name` cut to `limit` characters with an ellipsis, for a label drawn beside squares."""
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "\u2026"


def heat_map(cells: Sequence[tuple[str, str, Sequence[str]]], limit: int = HEAT_ROWS) -> HeatMap:
    """The heat map of `cells` — (id, name, twelve marks) in the table's order — drawing the
    first `limit` of them."""
    step = SQUARE + GAP
    drawn = cells[:limit]
    rows = []
    for index, (cell_id, name, marks) in enumerate(drawn):
        y = TOP + index * step
        squares = [
            Square(LABEL_WIDTH + m * step, y, m + 1, mark, MARK_CLASSES.get(mark, "not-judged"))
            for m, mark in enumerate(marks[:12])
        ]
        rows.append(HeatRow(cell_id, name, short(name), y + SQUARE // 2 + 5, squares))
    columns = [(m + 1, LABEL_WIDTH + m * step + SQUARE // 2) for m in range(12)]
    return HeatMap(
        width=LABEL_WIDTH + 12 * step,
        height=TOP + max(1, len(drawn)) * step,
        size=SQUARE,
        label_width=LABEL_WIDTH,
        top=TOP,
        columns=columns,
        rows=rows,
        shown=len(drawn),
        total=len(cells),
    )


def month_counts(marks: Sequence[Sequence[str]]) -> list[dict[str, int]]:
    """For each month, how many of the cells (each its twelve marks) are held, missed and not
    judged: the heat map told as a table."""
    counts = [dict.fromkeys(("held", "missed", "not-judged"), 0) for _ in range(12)]
    for cell in marks:
        for month, mark in enumerate(cell[:12]):
            counts[month][MARK_CLASSES.get(mark, "not-judged")] += 1
    return counts


class Point(msgspec.Struct, frozen=True):
    """One period's value of a series, where it is drawn."""

    x: float
    y: float
    index: int
    value: float


class Series(msgspec.Struct, frozen=True):
    """One rule's line: its points, and the runs of consecutive periods joined by a line
    (a period with nothing judged breaks the line rather than reading as 0 %)."""

    key: str
    number: int  # its colour and dash, by class
    points: list[Point]
    runs: list[str]  # each an SVG `points` list


class Tick(msgspec.Struct, frozen=True):
    """A gridline of the value axis."""

    y: float
    value: int


class Chart(msgspec.Struct, frozen=True, kw_only=True):
    """A line chart of shares (0 to 100 %) over periods."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    columns: list[float]  # the x of each period
    ticks: list[Tick]
    series: list[Series]


def line_chart(
    series: Sequence[tuple[str, Sequence[float | None]]],
    periods: int,
    *,
    width: int = 420,
    height: int = 240,
) -> Chart:
    """Lines for `series` — (key, one share in percent or None per period) — over `periods`
    periods spread evenly; the value axis runs 0 to 100 %."""
    left, right, top, bottom = 58, width - 8, 12, height - 40
    # Each period in the middle of its own slot, so that the labels at the ends stay inside.
    slot = (right - left) / max(1, periods)
    columns = [left + (i + 0.5) * slot for i in range(periods)]

    def y_of(value: float) -> float:
        return round(bottom - (bottom - top) * max(0.0, min(100.0, value)) / 100, 1)

    drawn = []
    for number, (key, values) in enumerate(series):
        points = [
            Point(round(columns[i], 1), y_of(v), i, v)
            for i, v in enumerate(values[:periods])
            if v is not None
        ]
        runs: list[list[Point]] = []
        run: list[Point] = []
        for point in points:
            if run and point.index != run[-1].index + 1:
                runs.append(run)
                run = []
            run.append(point)
        runs.append(run)
        drawn.append(
            Series(
                key=key,
                number=number,
                points=points,
                runs=[" ".join(f"{p.x},{p.y}" for p in r) for r in runs if len(r) > 1],
            )
        )
    ticks = [Tick(y_of(v), v) for v in (0, 25, 50, 75, 100)]
    return Chart(
        width=width, height=height, left=left, right=right, top=top, bottom=bottom,
        columns=[round(x, 1) for x in columns], ticks=ticks, series=drawn,
    )  # fmt: skip
