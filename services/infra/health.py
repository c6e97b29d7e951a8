"""Liveness and readiness endpoints, the same for both services."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response, get
from litestar.datastructures import State

from services.infra.auth.http import PUBLIC
from services.infra.database import is_reachable
from services.infra.lifespan import Workers
from services.infra.messaging import is_connected


class Health(msgspec.Struct):
    """Liveness: the process answers."""

    status: str


class Readiness(msgspec.Struct):
    """Readiness: whether PostgreSQL and NATS are reachable and the background work runs."""

    status: str
    postgres: bool
    nats: bool
    background: bool = True
    # Background workers whose loop ended (each a fault: they run until shutdown).
    stopped: list[str] = []


@get(
    "/health",
    tags=["operations"],
    summary="Liveness",
    sync_to_thread=False,
    opt=PUBLIC,
    security=[],
)
def health() -> Health:
    """Answer while the process runs."""
    return Health(status="ok")


@get(
    "/ready",
    tags=["operations"],
    summary="Readiness: PostgreSQL and NATS reachable, background work running",
    opt=PUBLIC,
    security=[],
)
async def ready(state: State) -> Response[Readiness]:
    """Answer 200 when PostgreSQL and NATS are reachable and no background task died, else 503."""
    pool: Any = state.get("pool")
    postgres = pool is not None and await is_reachable(pool)
    nats = is_connected(state.get("nats"))
    workers: Workers | None = state.get("workers")
    stopped = workers.ended() if workers is not None else []
    ok = postgres and nats and not stopped
    body = Readiness(
        status="ready" if ok else "unavailable",
        postgres=postgres,
        nats=nats,
        background=not stopped,
        stopped=stopped,
    )
    return Response(body, status_code=200 if ok else 503)


HEALTH_HANDLERS = [health, ready]
