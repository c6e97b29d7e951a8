"""The org page's cells table, sorted and filtered as its address asks, without JavaScript:
each column heading is a link that sorts by it, the filter form is a GET, and every link keeps
the other parameters of the address.

A row is a cell as the rules API lists it, with its year's `score` (or None) and its open
`case` from the workflow API (or None) beside it.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import urlencode

import msgspec

Column = Literal["cell", "type", "open", "score", "band", "last_meeting", "case"]
COLUMNS: tuple[Column, ...] = ("cell", "type", "open", "score", "band", "last_meeting", "case")
Direction = Literal["asc", "desc"]
PAGE_ROWS = 100
"""Rows on one page of the table: an org of thousands of cells is read a hundred at a time."""
BAND_PATTERN = r"^(?:[a-z][a-z_]{0,31})?$"
"""A band's code, as the pack names it (`excellent`, ...), `not_judged` for no score, or
nothing (the filter form's "all")."""

Row = Mapping[str, Any]


class TableQuery(msgspec.Struct, frozen=True, kw_only=True):
    """What the address asks of the table: the column and direction to sort by, the filters
    (a band, text the name or id contains, only cells with open findings), and the page."""

    sort: Column = "cell"
    dir: Direction = "asc"
    band: str | None = None
    text: str = ""
    open_only: bool = False
    page: int = 1

    def params(self) -> dict[str, str]:
        """The query's parameters as the address writes them, defaults left out."""
        found = {
            "sort": self.sort if self.sort != "cell" else "",
            "dir": self.dir if self.dir != "asc" else "",
            "band": self.band or "",
            "q": self.text,
            "open": "1" if self.open_only else "",
            "page": str(self.page) if self.page != 1 else "",
        }
        return {name: value for name, value in found.items() if value}


@functools.lru_cache(maxsize=1 << 16)
def folded(text: str) -> str:
    """`text` without case or Vietnamese marks, so `chi bo` finds `Chi bộ` and `Đ` is `d`.

    Kept for the names seen lately: every load of an org's page sorts all its cells by name."""
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold()


def band_of(row: Row) -> str:
    """The row's band, or `not_judged` when it has no score yet."""
    score = row.get("score")
    return (score or {}).get("band") or "not_judged"


def _score(row: Row) -> float | None:
    value = (row.get("score") or {}).get("score")
    return None if value is None else float(value)


def _case(row: Row) -> str | None:
    case = row.get("case")
    return None if case is None else str(case["state"])


_KEYS: dict[Column, Callable[[Row], Any]] = {
    "cell": lambda row: (folded(str(row.get("name") or row["cell_id"])), row["cell_id"]),
    "type": lambda row: row.get("cell_type"),
    "open": lambda row: row.get("open_findings"),
    "score": _score,
    # A band is a range of scores (QĐ 366): by band is by score, the bands kept together.
    "band": _score,
    "last_meeting": lambda row: row.get("last_regular_meeting_on"),
    "case": _case,
}


def arrange(rows: Sequence[Row], query: TableQuery) -> list[Row]:
    """The rows the query keeps, in its order; rows with nothing in the sorted column (no
    score, never met, no case) come last whichever way, then by name."""
    text = folded(query.text.strip())
    kept = [
        row
        for row in rows
        if (query.band is None or band_of(row) == query.band)
        and (not text or text in folded(f"{row.get('name') or ''} {row['cell_id']}"))
        and (not query.open_only or (row.get("open_findings") or 0) > 0)
    ]
    by_name = sorted(kept, key=_KEYS["cell"])
    key, reverse = _KEYS[query.sort], query.dir == "desc"
    present = [row for row in by_name if key(row) is not None]
    missing = [row for row in by_name if key(row) is None]
    return sorted(present, key=key, reverse=reverse) + missing


def sort_link(base: Mapping[str, str], query: TableQuery, column: Column) -> str:
    """The address that sorts by `column`: ascending first, the other way when it already
    sorts by it; every other parameter kept."""
    flip: Direction = "desc" if query.sort == column and query.dir == "asc" else "asc"
    changed = msgspec.structs.replace(query, sort=column, dir=flip, page=1)
    return "?" + urlencode({**base, **changed.params()})


class Page(msgspec.Struct, frozen=True, kw_only=True):
    """One page of the arranged rows: its number (1 on), how many there are, the rows' first
    and last positions (1 on; 0 when none match) and how many match in all."""

    number: int
    count: int
    first: int
    last: int
    matching: int


def page_of(rows: Sequence[Row], query: TableQuery) -> tuple[list[Row], Page]:
    """The rows of the page the query asks for (the last one if it asks beyond it)."""
    count = max(1, -(-len(rows) // PAGE_ROWS))
    number = min(query.page, count)
    start = (number - 1) * PAGE_ROWS
    shown = list(rows[start : start + PAGE_ROWS])
    first = start + 1 if shown else 0
    found = Page(
        number=number, count=count, first=first, last=start + len(shown), matching=len(rows)
    )
    return shown, found


def page_link(base: Mapping[str, str], query: TableQuery, number: int) -> str:
    """The address of page `number` of the table, sorted and filtered as now."""
    changed = msgspec.structs.replace(query, page=number)
    return "?" + urlencode({**base, **changed.params()})


def sorted_as(query: TableQuery, column: Column) -> str:
    """`aria-sort` of a column heading: ascending, descending, or none."""
    if query.sort != column:
        return "none"
    return "ascending" if query.dir == "asc" else "descending"
