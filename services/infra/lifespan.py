"""What both services' lifespans share: background workers and the objects handlers receive.

A lifespan builds a service's objects (pool, NATS connection, workers) once at start. `Workers`
starts the background loops, lets `/ready` see whether any has ended (none should before
shutdown), and, at the lifespan's end, stops them in reverse order of starting, each awaited, so
that a loop is stopped before whatever it feeds. `provide` hands what the lifespan put in the
app's state to handlers, as typed dependencies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from litestar.datastructures import State
from litestar.di import Provide

log = logging.getLogger(__name__)


class Worker(Protocol):
    """A background loop: `run` works until `stop` asks it to return."""

    async def run(self) -> None:
        """Work until stopped; faults are the worker's to log and survive."""

    def stop(self) -> None:
        """Ask `run` to return soon."""


class Workers:
    """The background loops of one running app; the lifespan's exit stack stops them."""

    def __init__(self, stack: contextlib.AsyncExitStack) -> None:
        self._stack = stack
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, name: str, worker: Worker) -> None:
        """Run `worker` now; at the end of the lifespan it is stopped and awaited, the workers
        started last stopping first."""
        task = asyncio.create_task(worker.run(), name=name)
        task.add_done_callback(_report)
        self._tasks.append(task)
        self._stack.push_async_callback(_finish, worker, task)

    @property
    def tasks(self) -> tuple[asyncio.Task[None], ...]:
        """The workers' tasks, in the order they started."""
        return tuple(self._tasks)

    def ended(self) -> list[str]:
        """The names of the workers whose loop has ended (before shutdown, each one a fault)."""
        return [task.get_name() for task in self._tasks if task.done()]


async def _finish(worker: Worker, task: asyncio.Task[None]) -> None:
    worker.stop()
    await asyncio.gather(task, return_exceptions=True)


def _report(task: asyncio.Task[None]) -> None:
    # Said at once, not when shutdown finally awaits the task; `/ready` turns unready too.
    if not task.cancelled() and (error := task.exception()) is not None:
        log.error("background task %s died", task.get_name(), exc_info=error)


async def stopped_within(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`, or less if `stopping` is set first; whether it was (a worker's pause)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
    return stopping.is_set()


def provide(*names: str) -> dict[str, Provide]:
    """Dependencies named after what the lifespan put in the app's state under those names."""
    return {name: Provide(_getter(name), sync_to_thread=False) for name in names}


def _getter(name: str) -> Any:
    def get(state: State) -> Any:
        return state[name]

    return get
