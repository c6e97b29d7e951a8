"""Composition root of the workflow service: wires settings, PostgreSQL, NATS and the HTTP API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig

from services.infra import database, messaging
from services.infra.health import HEALTH_HANDLERS
from services.infra.problems import EXCEPTION_HANDLERS
from services.workflow.settings import WorkflowSettings

SCHEMA = "workflow"


def create_app(settings: WorkflowSettings) -> Litestar:
    """Build the workflow service; connections open in the lifespan, never at import."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = await database.create_pool(settings.database_url)
        try:
            await database.migrate(pool, SCHEMA, "services.workflow.migrations")
            nc = await messaging.connect(settings.nats_url, "chibo-workflow")
            app.state.pool, app.state.nats = pool, nc
            try:
                yield
            finally:
                await messaging.close(nc)
        finally:
            await pool.close()

    return Litestar(
        route_handlers=[*HEALTH_HANDLERS],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="Chibo workflow service",
            version="1",
            description="Inspection, conclusion and remediation cases for each party cell.",
        ),
        state=State({"settings": settings, "pool": None, "nats": None}),
        request_max_body_size=settings.max_body_bytes,
    )
