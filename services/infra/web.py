"""The HTTP service every Chibo API is: the Litestar app (tokens in front, problem details for
every error, OpenAPI docs, a body limit), and the routes every service has: liveness,
readiness, metrics, and the outbox's parked messages.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Response, get
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import QueryParameter
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from services.contracts.roles import Role
from services.infra import database, messaging
from services.infra.auth.http import PUBLIC, allow, jwt_auth
from services.infra.clock import Clock
from services.infra.errors import StartupError
from services.infra.lifespan import Workers
from services.infra.metrics import ServiceMetrics
from services.infra.outbox import ParkedMessage, parked_messages
from services.infra.params import NumberCursor
from services.infra.problems import EXCEPTION_HANDLERS, problem_responses
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
    app = Litestar(
        route_handlers=[health, ready, metrics_endpoint, list_parked, DOCS_ASSETS, *routes],
        dependencies=dependencies,
        lifespan=[lifespan],
        on_app_init=[jwt_auth(settings.auth, clock).on_app_init],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=api_docs(title, description),
        state=State(
            {"settings": settings, "metrics": metrics, "schema": schema, "pool": None, "nats": None}
        ),
        request_max_body_size=settings.max_body_bytes,
    )
    _document_problems(app)
    _unions_of_overlapping_types(app)
    return app


def _swagger_ui_files() -> Path:
    """The folder of Swagger UI's files in the swagger-ui-py package (found, not imported)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise StartupError("the swagger-ui-py package is missing: reinstall from the lock file")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


# Swagger UI's own files (version 5, which reads OpenAPI 3.1), from the swagger-ui-py package,
# served by the service itself: the API docs open on a network that reaches nothing else.
DOCS_ASSETS_PATH = "/schema/assets"
DOCS_ASSETS = create_static_files_router(
    path=DOCS_ASSETS_PATH,
    directories=[_swagger_ui_files()],
    opt=PUBLIC,
    include_in_schema=False,
    cache_control=CacheControlHeader(max_age=86_400, public=True),
    name="docs-assets",
)


def api_docs(title: str, description: str) -> OpenAPIConfig:
    """The OpenAPI document at `/schema/openapi.json` (and `.yaml`), and Swagger UI at
    `/schema` drawn from the service's own copy of its files, never a CDN's."""
    assets = DOCS_ASSETS_PATH
    swagger = SwaggerRenderPlugin(
        js_url=f"{assets}/swagger-ui-bundle.js",
        css_url=f"{assets}/swagger-ui.css",
        standalone_preset_js_url=f"{assets}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{assets}/favicon-32x32.png'>",
        path=["/", "/swagger"],
    )
    return OpenAPIConfig(
        title=title,
        version="1",
        description=description,
        render_plugins=[swagger, JsonRenderPlugin(), YamlRenderPlugin()],
    )


def _document_problems(app: Litestar) -> None:
    """List in every operation's OpenAPI the problem details it may answer: what every route
    may (400 for its parameters, 503 for a passing fault; 401 and 403 behind tokens; 404 for a
    path naming something; 413 for a body) beside what its own decorator declares."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.opt.get("exclude_from_auth"):
                continue  # health, readiness, metrics: answers of their own, documented there
            statuses = {400, 401, 403, 503}
            if route.path_parameters:
                statuses.add(404)
            if handler.http_methods & {"POST", "PUT", "PATCH"}:
                statuses.add(413)
            handler.responses = {
                **problem_responses(*sorted(statuses)),
                **(handler.responses or {}),
            }


def _unions_of_overlapping_types(app: Litestar) -> None:
    """Write as `anyOf` every union Litestar wrote as `oneOf` whose types overlap: a finding's
    `observed` (a count or a ratio) is `integer | number`, which a whole number, matching both,
    would break."""
    openapi = app.openapi_schema  # built now, once; served as it is from here on
    todo: list[object] = list((openapi.components.schemas or {}).values())
    while todo:
        schema = todo.pop()
        if not isinstance(schema, Schema):
            continue
        members = schema.one_of or []
        types = {m.type for m in members if isinstance(m, Schema)}
        if {OpenAPIType.INTEGER, OpenAPIType.NUMBER} <= types:
            schema.any_of, schema.one_of = members, None
        todo.extend((schema.properties or {}).values())
        todo.extend([*(schema.any_of or []), *(schema.one_of or []), *(schema.all_of or [])])
        if schema.items is not None:
            todo.append(schema.items)


# An operation anyone may call: OpenAPI's empty security requirement (`[]` would be dropped).
ANONYMOUS: list[dict[str, list[str]]] = [{}]


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
    security=ANONYMOUS,
)
def health() -> Health:
    """Answer while the process runs."""
    return Health(status="ok")


@get(
    "/ready",
    tags=["operations"],
    summary="Readiness: PostgreSQL and NATS reachable, background work running",
    opt=PUBLIC,
    security=ANONYMOUS,
    responses={
        503: ResponseSpec(
            data_container=Readiness,
            description="Not ready: which dependency is out, and which worker stopped",
            generate_examples=False,
        )
    },
)
async def ready(state: State) -> Response[Readiness]:
    """Answer 200 when PostgreSQL and NATS are reachable and no background task died, else 503."""
    pool: Any = state.get("pool")
    # Asked at once, each within a second: a hung dependency makes the service unready, not
    # its readiness probe hang.
    postgres, nats = await asyncio.gather(
        answered_within(database.is_reachable(pool), CHECK_SECONDS) if pool else _false(),
        answered_within(messaging.is_reachable(state.get("nats")), CHECK_SECONDS),
    )
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


CHECK_SECONDS = 1.0


async def _false() -> bool:
    return False


async def answered_within(probe: Coroutine[Any, Any, bool], seconds: float) -> bool:
    """The probe's answer, or False past `seconds`. A late probe is left to finish on its own,
    not cancelled: cancelling a query waits on the hung server too, and a PONG arriving after
    its ping was cancelled makes nats-py log an error."""
    task = asyncio.ensure_future(probe)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.add_done_callback(_retrieved)
        return False
    return task.result()


def _retrieved(task: asyncio.Future[bool]) -> None:
    """Take a late probe's outcome, so that asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()


@get(
    "/metrics",
    tags=["operations"],
    summary="Prometheus metrics (no token: scraped by Prometheus)",
    media_type="text/plain; version=0.0.4",
    opt=PUBLIC,
    security=ANONYMOUS,
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
