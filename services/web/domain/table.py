"""The org page's cells table, sorted and filtered as its address asks, without JavaScript:
each column heading is a link that sorts by it, the filter form is a GET, and every link keeps
the other parameters of the address.

A row is a cell as the rules API lists it, with its year's `score` (or None) and its open
`case` from the workflow API (or None) beside it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import urlencode

import msgspec

Column = Literal["cell", "type", "open", "score", "band", "last_meeting", "case"]
COLUMNS: tuple[Column, ...] = ("cell", "type", "open", "score", "band", "last_meeting", "case")
Direction = Literal["asc", "desc"]
BAND_PATTERN = r"^(?:[a-z][a-z_]{0,31})?$"
"""A band's code, as the pack names it (`excellent`, ...), `not_judged` for no score, or
nothing (the filter form's "all")."""

Row = Mapping[str, Any]


class TableQuery(msgspec.Struct, frozen=True, kw_only=True):
    """What the address asks of the table: the column and direction to sort by, and the
    filters (a band, text the name or id contains, only cells with open findings)."""

    sort: Column = "cell"
    dir: Direction = "asc"
    band: str | None = None
    text: str = ""
    open_only: bool = False

    def params(self) -> dict[str, str]:
        """The query's parameters as the address writes them, defaults left out."""
        found = {
            "sort": self.sort if self.sort != "cell" else "",
            "dir": self.dir if self.dir != "asc" else "",
            "band": self.band or "",
            "q": self.text,
            "open": "1" if self.open_only else "",
        }
        return {name: value for name, value in found.items() if value}


def folded(text: str) -> str:
    """`text` without case or Vietnamese marks, so `chi bo` finds `Chi bộ` and `Đ` is `d`."""
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
    changed = msgspec.structs.replace(query, sort=column, dir=flip)
    return "?" + urlencode({**base, **changed.params()})


def sorted_as(query: TableQuery, column: Column) -> str:
    """`aria-sort` of a column heading: ascending, descending, or none."""
    if query.sort != column:
        return "none"
    return "ascending" if query.dir == "asc" else "descending"
