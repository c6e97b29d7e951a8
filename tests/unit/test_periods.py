"""Calendar periods in Vietnam time."""

from __future__ import annotations

from datetime import date, datetime

from services.contracts.calendar import vietnam_date
from services.rules.domain.periods import (
    PeriodKind,
    first_day,
    judged_periods,
    label,
    last_day,
    period_of,
)

MONTH, QUARTER, YEAR = PeriodKind.month, PeriodKind.quarter, PeriodKind.year


def _labels(kind: PeriodKind, established: str, dissolved: str | None, horizon: str) -> list[str]:
    gone = date.fromisoformat(dissolved) if dissolved else None
    keys = judged_periods(kind, date.fromisoformat(established), gone, date.fromisoformat(horizon))
    return [label(kind, key) for key in keys]


def test_evening_in_new_york_is_the_next_morning_in_vietnam() -> None:
    assert vietnam_date(datetime.fromisoformat("2024-03-31T20:00:00-05:00")) == date(2024, 4, 1)


def test_late_evening_in_vietnam_stays_on_its_day() -> None:
    assert vietnam_date(datetime.fromisoformat("2024-03-31T23:59:00+07:00")) == date(2024, 3, 31)


def test_labels_name_month_quarter_and_year() -> None:
    day = date(2024, 8, 15)
    assert [label(k, period_of(k, day)) for k in (MONTH, QUARTER, YEAR)] == [
        "2024-08",
        "2024-Q3",
        "2024",
    ]


def test_bounds_of_a_leap_february_and_a_last_quarter() -> None:
    feb = period_of(MONTH, date(2024, 2, 10))
    q4 = period_of(QUARTER, date(2023, 11, 1))
    assert (first_day(MONTH, feb), last_day(MONTH, feb)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert (first_day(QUARTER, q4), last_day(QUARTER, q4)) == (
        date(2023, 10, 1),
        date(2023, 12, 31),
    )


def test_only_periods_ended_before_the_horizon_are_judged() -> None:
    assert _labels(MONTH, "2024-01-01", None, "2024-03-31") == ["2024-01", "2024-02"]
    assert _labels(MONTH, "2024-01-01", None, "2024-04-01") == ["2024-01", "2024-02", "2024-03"]


def test_a_period_begun_before_establishment_is_not_judged() -> None:
    assert _labels(QUARTER, "2024-01-02", None, "2025-01-01") == ["2024-Q2", "2024-Q3", "2024-Q4"]


def test_a_period_cut_short_by_dissolution_is_not_judged() -> None:
    assert _labels(QUARTER, "2024-01-01", "2024-09-30", "2025-01-01") == ["2024-Q1", "2024-Q2"]
    assert _labels(QUARTER, "2024-01-01", "2024-10-01", "2025-01-01") == [
        "2024-Q1",
        "2024-Q2",
        "2024-Q3",
    ]


def test_a_cell_younger_than_any_whole_period_is_not_judged() -> None:
    assert _labels(YEAR, "2024-06-01", None, "2025-06-01") == []
    assert _labels(MONTH, "2024-06-01", None, "2024-05-01") == []
