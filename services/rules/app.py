"""Composition root of the rules service: wires settings, PostgreSQL, NATS and the HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig

from services.contracts.subjects import DLQ_STREAM, DLQ_SUBJECTS, EVENTS_STREAM, EVENTS_SUBJECTS
from services.infra import database, messaging
from services.infra.health import HEALTH_HANDLERS
from services.infra.problems import EXCEPTION_HANDLERS
from services.rules.api import post_events
from services.rules.consumer import EventConsumer
from services.rules.settings import RulesSettings

SCHEMA = "rules"


def create_app(settings: RulesSettings) -> Litestar:
    """Build the rules service; connections open in the lifespan, never at import."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = await database.create_pool(settings.database_url)
        try:
            await database.migrate(pool, SCHEMA, "services.rules.migrations")
            nc = await messaging.connect(settings.nats_url, "chibo-rules")
            js = nc.jetstream()
            for name, subjects, days in (
                (EVENTS_STREAM, EVENTS_SUBJECTS, settings.stream_max_age_days),
                (DLQ_STREAM, DLQ_SUBJECTS, 365.0),
            ):
                await messaging.ensure_stream(
                    js, name, [subjects], max_age_days=days, replicas=settings.stream_replicas
                )
            consumer = EventConsumer(
                js,
                pool,
                durable=settings.consumer_name,
                batch=settings.consumer_batch,
                ack_wait=settings.consumer_ack_wait_seconds,
            )
            await consumer.subscribe()
            consuming = asyncio.create_task(consumer.run(), name="event-consumer")
            app.state.pool, app.state.nats = pool, nc
            try:
                yield
            finally:
                consumer.stop()
                await consuming
                await messaging.close(nc)
        finally:
            await pool.close()

    return Litestar(
        route_handlers=[*HEALTH_HANDLERS, post_events],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="Chibo rules service",
            version="1",
            description="Ingests meeting and cell events, keeps the facts, judges them by rules.",
        ),
        state=State({"settings": settings, "pool": None, "nats": None}),
        request_max_body_size=settings.max_body_bytes,
    )
