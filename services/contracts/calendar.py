"""Vietnam time (UTC+07:00), in which every date of the contract is counted, and the span of
dates the contract accepts.

A meeting's month, a period's end and a case's deadline are Vietnam dates whatever offset an
event's timestamps carry, so both services take the zone from here. Every date and instant lies
within 1930-01-01 .. 2100-12-31, Vietnam time: before the Party was founded no cell met, and
nothing is planned past 2100. Outside it, dates overflow when moved to Vietnam time or one day
on, and PostgreSQL refuses them; inside it, nothing can.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

VIETNAM = timezone(timedelta(hours=7), "ICT")  # no daylight saving since 1975
EARLIEST = date(1930, 1, 1)
LATEST = date(2100, 12, 31)
_FIRST_INSTANT = datetime(1930, 1, 1, tzinfo=VIETNAM)
_END_INSTANT = datetime(2101, 1, 1, tzinfo=VIETNAM)  # exclusive
SPAN = f"between {EARLIEST.isoformat()} and {LATEST.isoformat()} (Vietnam time)"


def vietnam_date(moment: datetime) -> date:
    """The calendar date of `moment` in Vietnam."""
    return moment.astimezone(VIETNAM).date()


def within_span(value: date | datetime | None) -> bool:
    """Whether `value` (None counts as absent, so within) lies in the contract's span."""
    if value is None:
        return True
    if isinstance(value, datetime):
        # Compared as instants, which never overflows, whatever the offset.
        return _FIRST_INSTANT <= value < _END_INSTANT if value.tzinfo else False
    return EARLIEST <= value <= LATEST


def require_span(field: str, value: date | datetime | None) -> None:
    """Raise ValueError naming `field` (in backticks, as decoders report it) unless `value`
    lies in the contract's span."""
    if not within_span(value):
        raise ValueError(f"`{field}` must lie {SPAN}")
