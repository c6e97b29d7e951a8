"""A progress line on a terminal; silence when stderr is piped or redirected."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Redraws `label: done/total` at most ten times a second, only on a TTY."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self.label, self.total, self._drawn = label, max(total, 1), 0.0

    def update(self, done: int) -> None:
        """Show that `done` of `total` units are complete."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._drawn < 0.1:
            return
        self._drawn = now
        share = min(done / self.total, 1.0)
        bar = "#" * int(share * 30)
        self.stream.write(f"\r{self.label} [{bar:<30}] {share:6.1%}")
        self.stream.flush()

    def finish(self) -> None:
        """Clear the line so that what follows starts clean."""
        if self.enabled:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
