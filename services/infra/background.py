"""Background tasks that say so when they die, instead of vanishing until shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


def background(work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    """Run `work` as a task whose unexpected end is logged at once (and seen by `/ready`)."""
    task = asyncio.create_task(work, name=name)
    task.add_done_callback(_report)
    return task


def _report(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    if (error := task.exception()) is not None:
        log.error("background task %s died", task.get_name(), exc_info=error)
