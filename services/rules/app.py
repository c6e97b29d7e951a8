"""Composition root of the rules service: wires settings, PostgreSQL, NATS, engine and HTTP API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from litestar import Litestar

from services.contracts import subjects
from services.infra import database, messaging, streams
from services.infra.clock import Clock, SystemClock
from services.infra.consumer import DeadLetters
from services.infra.errors import StartupError
from services.infra.lifespan import Workers
from services.infra.outbox import OutboxRelay
from services.infra.publisher import Publisher
from services.infra.web import service_app
from services.rules.adapters.files import read_rules
from services.rules.entrypoints import cells, events, findings, operations
from services.rules.entrypoints.consumer import EventConsumer
from services.rules.entrypoints.deps import DEPENDENCIES
from services.rules.errors import RuleFileError
from services.rules.metrics import Metrics
from services.rules.service.judging import Judge
from services.rules.service.reload import Reloader
from services.rules.service.scheduler import PeriodScheduler
from services.rules.settings import RulesSettings

SCHEMA = "rules"
ROUTES = [
    events.post_events,
    findings.list_findings,
    findings.get_finding,
    cells.list_cells,
    cells.pending_cells,
    cells.cell_record,
    cells.cell_compliance,
    cells.cell_score,
    cells.top_orgs,
    cells.org_view,
    cells.org_scores,
    cells.org_summary,
    cells.org_summary_csv,
    cells.org_calendar,
    cells.org_trend,
    operations.rules_in_force,
    operations.reload_rules,
]


def create_app(settings: RulesSettings, clock: Clock | None = None) -> Litestar:
    """Build the rules service; connections open in the lifespan, never at import."""
    time = clock or SystemClock()
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            pack = read_rules(Path(settings.rules_dir))
        except RuleFileError as exc:
            raise StartupError(
                f"the rule pack in {settings.rules_dir} is invalid:\n{exc}"
            ) from None
        async with contextlib.AsyncExitStack() as stack:
            pool = await database.create_pool(settings.database_url, max_size=settings.pool_size)
            stack.push_async_callback(pool.close)
            await database.migrate(pool, SCHEMA, "services.rules.migrations")
            nc = await messaging.connect(settings.nats_url, "chibo-rules", settings.nats)
            stack.push_async_callback(messaging.close, nc)
            js = nc.jetstream()
            await streams.ensure_streams(
                js,
                "rules",
                replicas=settings.stream_replicas,
                max_age_days={subjects.EVENTS_STREAM: settings.stream_max_age_days},
            )
            relay = OutboxRelay(
                pool,
                Publisher(nc),
                SCHEMA,
                poll_seconds=settings.outbox_poll_seconds,
                parked=metrics.outbox_parked.labels(SCHEMA).inc,
            )
            judge = Judge(pack, time, relay.wake, metrics)
            scheduler = PeriodScheduler(pool, judge)
            judge.on_deferred = scheduler.wake
            reloader = Reloader(
                Path(settings.rules_dir),
                pool,
                judge,
                scheduler,
                watch_seconds=settings.rules_watch_seconds,
            )
            dead_letters = DeadLetters(
                js, subjects.DLQ_EVENTS, id_prefix="dlq", counted=metrics.events_dead_lettered.inc
            )
            consumer = EventConsumer(
                nc,
                pool,
                judge,
                dead_letters,
                durable=settings.consumer_name,
                batch=settings.consumer_batch,
                ack_wait=settings.consumer_ack_wait_seconds,
                in_flight=settings.consumer_in_flight,
                # Findings waiting to be published hold the next batch back past this many.
                ready=lambda: relay.within(settings.consumer_batch * settings.consumer_in_flight),
            )
            await consumer.subscribe()
            metrics.watch(js, [(subjects.EVENTS_STREAM, settings.consumer_name)])
            # Stopped in reverse: the watcher and the consumer, then the scheduler, and the relay
            # last, so that what they committed is still published.
            workers = Workers(stack)
            workers.start("outbox-relay", relay)
            workers.start("period-scheduler", scheduler)
            workers.start("event-consumer", consumer)
            workers.start("rule-watch", reloader)
            app.state.update(pool=pool, nats=nc, judge=judge, reloader=reloader, workers=workers)
            yield

    return service_app(
        settings,
        time,
        title="Chibo rules service",
        description="Ingests meeting and cell events, keeps the facts, judges them by rules.",
        routes=ROUTES,
        dependencies=DEPENDENCIES,
        lifespan=lifespan,
        metrics=metrics,
        schema=SCHEMA,
    )
