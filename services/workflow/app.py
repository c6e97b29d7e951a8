"""Composition root of the workflow service: wires settings, PostgreSQL, NATS and the HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import msgspec
from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig

from services.contracts import subjects
from services.contracts.codec import decode_event
from services.contracts.events import CellRegisteredEvent, OrgRegisteredEvent
from services.contracts.findings import Finding
from services.infra import database, messaging
from services.infra.auth.http import jwt_auth
from services.infra.clock import Clock, SystemClock
from services.infra.consumer import DeadLetters
from services.infra.database import Connection
from services.infra.health import HEALTH_HANDLERS
from services.infra.outbox import OutboxRelay
from services.infra.problems import EXCEPTION_HANDLERS
from services.infra.publisher import Publisher
from services.workflow.domain.policy import load_policies
from services.workflow.entrypoints.cases import ROUTES
from services.workflow.entrypoints.consumer import MessageConsumer
from services.workflow.service import intake
from services.workflow.service.deadlines import DeadlinePoller
from services.workflow.service.handlers import SCHEMA, Service
from services.workflow.service.registry import POLICY_FILE, Registry
from services.workflow.settings import WorkflowSettings

_finding = msgspec.json.Decoder(Finding)


class Worker(Protocol):
    """A background loop the lifespan starts and stops."""

    async def run(self) -> None:
        """Work until stopped."""

    def stop(self) -> None:
        """Ask `run` to return."""


def create_app(settings: WorkflowSettings, clock: Clock | None = None) -> Litestar:
    """Build the workflow service; files are read and connections opened in the lifespan."""
    now: Clock = clock or SystemClock()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        folder = Path(settings.definitions_dir)
        registry = Registry()
        registry.load_directory(folder)
        policy_file = folder / POLICY_FILE
        policies = load_policies(policy_file, registry) if policy_file.exists() else []
        pool = await database.create_pool(settings.database_url, max_size=settings.pool_size)
        try:
            await database.migrate(pool, SCHEMA, "services.workflow.migrations")
            async with pool.acquire() as conn:
                await registry.save(conn)
            nc = await messaging.connect(settings.nats_url, "chibo-workflow", settings.nats)
            js = nc.jetstream()
            for name, subject, update in (
                (subjects.WORKFLOW_STREAM, subjects.WORKFLOW_SUBJECTS, True),
                # Owned by the rules service; created here only so this service can start first.
                (subjects.FINDINGS_STREAM, subjects.FINDINGS_SUBJECTS, False),
                (subjects.EVENTS_STREAM, subjects.EVENTS_SUBJECTS, False),
                (subjects.DLQ_STREAM, subjects.DLQ_SUBJECTS, False),
            ):
                await messaging.ensure_stream(
                    js,
                    name,
                    [subject],
                    max_age_days=settings.stream_max_age_days,
                    replicas=settings.stream_replicas,
                    update=update,
                )
            # Small batches: publishing a batch holds the event loop, which shows in the p99.
            relay = OutboxRelay(
                pool, Publisher(nc), SCHEMA, batch=50, poll_seconds=settings.outbox_poll_seconds
            )
            service = Service(pool=pool, registry=registry, clock=now, wake=relay.wake)

            async def on_finding(conn: Connection, data: bytes) -> None:
                finding = _finding.decode(data)
                await intake.take_finding(conn, finding, policies, registry, now.now())
                relay.wake()

            async def on_registered(conn: Connection, data: bytes) -> None:
                event = decode_event(data)
                if isinstance(event, CellRegisteredEvent):
                    await intake.take_cell(conn, event)
                elif isinstance(event, OrgRegisteredEvent):
                    await intake.take_org(conn, event)

            dead_letters = DeadLetters(js, subjects.DLQ_WORKFLOW, id_prefix="dlq-workflow")
            consumers = [
                MessageConsumer(
                    nc,
                    pool,
                    dead_letters,
                    stream=stream,
                    subject=subject,
                    durable=durable,
                    handler=handler,
                    ack_wait=settings.consumer_ack_wait_seconds,
                )
                for stream, subject, durable, handler in (
                    (
                        subjects.FINDINGS_STREAM,
                        subjects.FINDINGS_SUBJECTS,
                        settings.findings_consumer_name,
                        on_finding,
                    ),
                    (
                        subjects.EVENTS_STREAM,
                        subjects.CELL_REGISTERED,
                        settings.cells_consumer_name,
                        on_registered,
                    ),
                    (
                        subjects.EVENTS_STREAM,
                        subjects.ORG_REGISTERED,
                        settings.orgs_consumer_name,
                        on_registered,
                    ),
                )
            ]
            for consumer in consumers:
                await consumer.subscribe()
            poller = DeadlinePoller(pool, now, relay.wake, settings.deadline_poll_seconds)
            workers: list[Worker] = [relay, poller, *consumers]
            tasks = [asyncio.create_task(w.run()) for w in workers]
            app.state.pool, app.state.nats, app.state.service = pool, nc, service
            try:
                yield
            finally:
                for worker in workers:
                    worker.stop()
                await asyncio.gather(*tasks)
                await messaging.close(nc)
        finally:
            await pool.close()

    return Litestar(
        route_handlers=[*HEALTH_HANDLERS, *ROUTES],
        lifespan=[lifespan],
        on_app_init=[jwt_auth(settings.auth).on_app_init],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="Chibo workflow service",
            version="1",
            description="Inspection, conclusion and remediation cases for each party cell. "
            "Every call but health, readiness and these docs needs a bearer token "
            "(`chibo token`): its roles say what may be done, its org or cell where.",
        ),
        state=State({"settings": settings, "pool": None, "nats": None, "service": None}),
        request_max_body_size=settings.max_body_bytes,
    )
