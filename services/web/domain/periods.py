"""The report's periods as the org page offers them: the year, one of its quarters or one of
its months, written as the rules API reads them (`2025`, `2025-Q1`, `2025-03`) and named as
people read them, by Babel."""

from __future__ import annotations

import re

from services.contracts import wording
from services.contracts.wording import Language

PARTS = ("year", "Q1", "Q2", "Q3", "Q4", *(f"{m:02d}" for m in range(1, 13)))
"""What the period picker offers within a year: the whole year, a quarter, a month."""

_PART = re.compile(r"^(?:year|Q[1-4]|0[1-9]|1[0-2])$")


def known(part: str) -> bool:
    """Whether `part` is one of `PARTS`."""
    return _PART.match(part) is not None


def code(year: int, part: str) -> str:
    """The period as the rules API reads it: `2025`, `2025-Q1` or `2025-03`."""
    return str(year) if part == "year" else f"{year}-{part}"


def name(year: int, part: str, language: Language) -> str:
    """The period as people read it: `năm 2025`, `quý I/2025`, `tháng 3/2025` / `2025`, ..."""
    if part == "year":
        return wording.year(year, language)
    if part.startswith("Q"):
        return wording.quarter(year, int(part[1]), language)
    return wording.month(year, int(part), language)
