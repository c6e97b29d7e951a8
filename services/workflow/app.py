"""Composition root of the workflow service: wires settings, PostgreSQL, NATS and the HTTP API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from litestar import Litestar

from services.contracts import subjects
from services.infra import database, messaging, streams
from services.infra.clock import Clock, SystemClock
from services.infra.consumer import DeadLetters
from services.infra.lifespan import Workers
from services.infra.outbox import OutboxRelay
from services.infra.publisher import Publisher
from services.infra.web import service_app
from services.workflow.adapters.files import read_policies
from services.workflow.entrypoints.cases import ROUTES
from services.workflow.entrypoints.consumer import SUBSCRIPTIONS, MessageConsumer
from services.workflow.entrypoints.deps import DEPENDENCIES
from services.workflow.metrics import Metrics
from services.workflow.service.deadlines import DeadlinePoller
from services.workflow.service.handlers import SCHEMA, Service
from services.workflow.service.registry import Registry
from services.workflow.settings import WorkflowSettings


def create_app(settings: WorkflowSettings, clock: Clock | None = None) -> Litestar:
    """Build the workflow service; files are read and connections opened in the lifespan."""
    time: Clock = clock or SystemClock()
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        folder = Path(settings.definitions_dir)
        registry = Registry()
        registry.load_directory(folder)
        policies = read_policies(folder, registry.definitions())
        async with contextlib.AsyncExitStack() as stack:
            pool = await database.create_pool(settings.database_url, max_size=settings.pool_size)
            stack.push_async_callback(pool.close)
            await database.migrate(pool, SCHEMA, "services.workflow.migrations")
            async with pool.acquire() as conn:
                await registry.save(conn)
            nc = await messaging.connect(settings.nats_url, "chibo-workflow", settings.nats)
            stack.push_async_callback(messaging.close, nc)
            js = nc.jetstream()
            await streams.ensure_streams(
                js,
                "workflow",
                replicas=settings.stream_replicas,
                max_age_days={subjects.WORKFLOW_STREAM: settings.stream_max_age_days},
            )
            # Small batches: publishing a batch holds the event loop, which shows in the p99.
            relay = OutboxRelay(
                pool,
                Publisher(nc),
                SCHEMA,
                batch=50,
                poll_seconds=settings.outbox_poll_seconds,
                parked=metrics.outbox_parked.labels(SCHEMA).inc,
            )
            service = Service(
                pool=pool,
                registry=registry,
                clock=time,
                wake=relay.wake,
                metrics=metrics,
                policies=policies,
            )
            dead_letters = DeadLetters(
                js,
                subjects.DLQ_WORKFLOW,
                id_prefix="dlq-workflow",
                counted=metrics.dead_lettered.inc,
            )
            consumers = [
                MessageConsumer(nc, service, dead_letters, subscription, settings)
                for subscription in SUBSCRIPTIONS
            ]
            for consumer in consumers:
                await consumer.subscribe()
            metrics.watch(js, [(s.stream, s.durable(settings)) for s in SUBSCRIPTIONS])
            # Stopped in reverse: the consumers and the poller first, the relay last, so that
            # what they committed is still published.
            workers = Workers(stack)
            workers.start("outbox-relay", relay)
            workers.start(
                "deadline-poller",
                DeadlinePoller(pool, time, relay.wake, settings.deadline_poll_seconds, metrics),
            )
            for subscription, consumer in zip(SUBSCRIPTIONS, consumers, strict=True):
                workers.start(f"consumer {subscription.subject}", consumer)
            app.state.update(pool=pool, nats=nc, service=service, workers=workers)
            yield

    return service_app(
        settings,
        time,
        title="Chibo workflow service",
        description="Inspection, conclusion and remediation cases for each party cell. "
        "Every call but health, readiness and these docs needs a bearer token "
        "(`chibo token`): its roles say what may be done, its org or cell where.",
        routes=ROUTES,
        dependencies=DEPENDENCIES,
        lifespan=lifespan,
        metrics=metrics,
        schema=SCHEMA,
    )
