"""Time as a dependency: the system clock in production; tests drive a clock of their own."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """What services ask of time: now, and waiting until a moment."""

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...

    async def sleep_until(self, moment: datetime) -> None:
        """Return once `now()` has reached `moment`."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)

    async def sleep_until(self, moment: datetime) -> None:
        """Sleep until `moment`."""
        await asyncio.sleep(max(0.0, (moment - self.now()).total_seconds()))
