"""Calendar periods in Vietnam time (UTC+07:00), whatever offset a meeting's `held_at` carries.

A period is identified by its kind and an integer key counted from year 0, so that grouping
meetings by period is integer arithmetic on a month index computed once per meeting.
"""

from __future__ import annotations

import enum
from datetime import date, timedelta


class PeriodKind(enum.StrEnum):
    """The calendar periods a rule may count over."""

    month = "month"
    quarter = "quarter"
    year = "year"


_MONTHS_PER = {PeriodKind.month: 1, PeriodKind.quarter: 3, PeriodKind.year: 12}


def month_index(day: date) -> int:
    """Months since year 0 for `day`; the basis of every period key."""
    return day.year * 12 + day.month - 1


def months_in(kind: PeriodKind) -> int:
    """How many months a period of `kind` spans."""
    return _MONTHS_PER[kind]


def period_key(kind: PeriodKind, month: int) -> int:
    """The key of the period of `kind` containing the month with index `month`."""
    return month // _MONTHS_PER[kind]


def period_of(kind: PeriodKind, day: date) -> int:
    """The key of the period of `kind` containing `day`."""
    return period_key(kind, month_index(day))


def first_day(kind: PeriodKind, key: int) -> date:
    """The first day of the period."""
    month = key * _MONTHS_PER[kind]
    return date(month // 12, month % 12 + 1, 1)


def end_day(kind: PeriodKind, key: int) -> date:
    """The day after the period's last day (its exclusive end)."""
    return first_day(kind, key + 1)


def last_day(kind: PeriodKind, key: int) -> date:
    """The last day of the period."""
    return end_day(kind, key) - timedelta(days=1)


def label(kind: PeriodKind, key: int) -> str:
    """The scope of a period: `2024-03`, `2024-Q1` or `2024`."""
    if kind is PeriodKind.month:
        return f"{key // 12:04d}-{key % 12 + 1:02d}"
    if kind is PeriodKind.quarter:
        return f"{key // 4:04d}-Q{key % 4 + 1}"
    return f"{key:04d}"


def judged_periods(
    kind: PeriodKind, established_on: date, dissolved_on: date | None, horizon: date
) -> range:
    """Keys of the periods that have ended before `horizon` with the cell active throughout.

    Active throughout means established on or before the first day and not dissolved before the
    day after the last day (docs/default-rules.md).
    """
    start = period_of(kind, established_on)
    if first_day(kind, start) < established_on:
        start += 1  # established mid-period: that period is not judged
    stop_day = horizon if dissolved_on is None else min(horizon, dissolved_on)
    stop = period_of(kind, stop_day)  # the period containing stop_day has not fully passed
    return range(start, max(start, stop))
