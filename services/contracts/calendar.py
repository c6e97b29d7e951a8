"""Vietnam time (UTC+07:00), in which every date of the contract is counted.

A meeting's month, a period's end and a case's deadline are Vietnam dates whatever offset an
event's timestamps carry, so both services take the zone from here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

VIETNAM = timezone(timedelta(hours=7), "ICT")  # no daylight saving since 1975


def vietnam_date(moment: datetime) -> date:
    """The calendar date of `moment` in Vietnam."""
    return moment.astimezone(VIETNAM).date()
