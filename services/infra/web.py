"""The HTTP service every Chibo API is: the Litestar app (tokens in front, problem details for
every error, OpenAPI docs, a body limit), and the routes every service has: liveness,
readiness, metrics, and the outbox's parked messages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.params import QueryParameter
from litestar.types import ControllerRouterHandler

from services.contracts.roles import Role
from services.infra.auth.http import PUBLIC, allow, jwt_auth
from services.infra.clock import Clock
from services.infra.database import is_reachable
from services.infra.lifespan import Workers
from services.infra.messaging import is_connected
from services.infra.metrics import ServiceMetrics
from services.infra.outbox import ParkedMessage, parked_messages
from services.infra.params import NumberCursor
from services.infra.problems import EXCEPTION_HANDLERS
from services.infra.settings import ServiceSettings


def service_app(
    settings: ServiceSettings,
    clock: Clock,
    *,
    title: str,
    description: str,
    routes: Sequence[ControllerRouterHandler],
    dependencies: dict[str, Provide],
    lifespan: Callable[[Litestar], AbstractAsyncContextManager[None]],
    metrics: ServiceMetrics,
    schema: str,
) -> Litestar:
    """A Chibo service's app: its routes behind tokens, with health, readiness and metrics, and
    for admins the messages its outbox (in `schema`) set aside."""
    return Litestar(
        route_handlers=[health, ready, metrics_endpoint, list_parked, *routes],
        dependencies=dependencies,
        lifespan=[lifespan],
        on_app_init=[jwt_auth(settings.auth, clock).on_app_init],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(title=title, version="1", description=description),
        state=State(
            {"settings": settings, "metrics": metrics, "schema": schema, "pool": None, "nats": None}
        ),
        request_max_body_size=settings.max_body_bytes,
    )


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


@get(
    "/metrics",
    tags=["operations"],
    summary="Prometheus metrics (no token: scraped by Prometheus)",
    opt=PUBLIC,
    security=[],
    name="metrics",
)
async def metrics_endpoint(state: State) -> Response[bytes]:
    """Counters, latencies and consumer lag, in Prometheus text format."""
    metrics: ServiceMetrics = state.metrics
    return Response(await metrics.exposition(), media_type="text/plain; version=0.0.4")


class ParkedPage(msgspec.Struct, frozen=True):
    """One page of parked messages; pass `next_after` as `after` for the next (null at the end)."""

    items: list[ParkedMessage]
    next_after: int | None


@get(
    "/outbox/parked",
    tags=["operations"],
    summary="Outbox messages set aside because the server will never take them (admin)",
    guards=[allow(Role.admin)],
)
async def list_parked(
    state: State,
    after: NumberCursor = 0,
    limit: Annotated[int, QueryParameter(ge=1, le=1000, description="Page size")] = 100,
) -> ParkedPage:
    """Each message with its subject, id, size and why it was set aside, oldest first."""
    async with state.pool.acquire() as conn:
        items = await parked_messages(conn, state.schema, after, limit)
    return ParkedPage(items, items[-1].id if len(items) == limit else None)
