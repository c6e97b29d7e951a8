"""A clock the tests drive: time moves only when a test says so."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta


class ManualClock:
    """A clock that moves only when told to; sleepers wake when it passes their moment."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        """The instant the clock was last set to."""
        return self._now

    def set(self, moment: datetime) -> None:
        """Move the clock forward to `moment` and wake whoever waits for it."""
        self._now = max(self._now, moment)
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    def advance(self, **delta: float) -> None:
        """Move the clock forward by a `timedelta`'s arguments, e.g. `advance(days=21)`."""
        self.set(self._now + timedelta(**delta))

    async def sleep_until(self, moment: datetime) -> None:
        """Wait until the clock is set to `moment` or later."""
        while self._now < moment:
            await self._moved.wait()
