"""The JetStream streams Chibo keeps, in one table both services create them from.

Each stream has one owner, the service whose settings decide its replicas (and, where the
service has one, its age limit) and who brings its configuration up to date at start. The other
service creates a stream it needs only if it is missing, so either may start first, and leaves
it as it is otherwise.

What the streams promise: JetStream acknowledges a publish once a majority of the stream's
replicas hold it (2 of 3 on the cluster of `deploy/`), and each node writes its store to disk
every `sync_interval`. Until a node has written it, an acknowledged message is in that node's
memory: a process crash keeps it (the operating system holds the pages), while a power cut of a
majority of the nodes within one interval loses it. The services delete an outbox row once
JetStream acknowledged it, and a source that published to NATS holds nothing else: until the
rules service has stored an event, the stream is its only record.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from services.contracts import subjects

# How long JetStream drops a message that repeats the `Nats-Msg-Id` of one it stored (seconds).
DUPLICATE_WINDOW_SECONDS = 120


class Stream(msgspec.Struct, frozen=True, kw_only=True):
    """One stream: its name and subjects, who owns it, and how long it keeps messages."""

    name: str
    subjects: tuple[str, ...]
    owner: str  # the service that configures it: "rules" or "workflow"
    max_age_days: float
    holds: str  # what it carries, for its description on the server


STREAMS = (
    Stream(
        name=subjects.EVENTS_STREAM,
        subjects=(subjects.EVENTS_SUBJECTS,),
        owner="rules",
        max_age_days=30.0,  # facts live in PostgreSQL: long enough to replay a lost database
        holds="events from source systems and those posted over HTTP",
    ),
    Stream(
        name=subjects.DLQ_STREAM,
        subjects=(subjects.DLQ_SUBJECTS,),
        owner="rules",
        max_age_days=365.0,
        holds="messages that can never be taken, with the reason",
    ),
    Stream(
        name=subjects.FINDINGS_STREAM,
        subjects=(subjects.FINDINGS_SUBJECTS,),
        owner="rules",
        max_age_days=365.0,
        holds="findings opened and resolved",
    ),
    Stream(
        name=subjects.WORKFLOW_STREAM,
        subjects=(subjects.WORKFLOW_SUBJECTS,),
        owner="workflow",
        max_age_days=365.0,
        holds="case transitions and deadlines passed",
    ),
)


def config_of(stream: Stream, replicas: int, max_age_days: float | None = None) -> StreamConfig:
    """The server configuration of `stream` with `replicas` (and another age limit, if given)."""
    days = stream.max_age_days if max_age_days is None else max_age_days
    return StreamConfig(
        name=stream.name,
        description=f"Chibo: {stream.holds}",
        subjects=list(stream.subjects),
        storage=StorageType.FILE,
        max_age=days * 86_400,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
    )


async def ensure_streams(
    js: JetStreamContext,
    service: str,
    *,
    replicas: int,
    max_age_days: Mapping[str, float] | None = None,
) -> None:
    """Create every stream that is missing; bring those `service` owns up to date.

    `replicas` and `max_age_days` (by stream name, where a setting overrides the table) are the
    service's settings: they configure the streams it owns, and those it creates first.
    """
    ages = max_age_days or {}
    for stream in STREAMS:
        config = config_of(stream, replicas, ages.get(stream.name))
        try:
            await js.stream_info(stream.name)
        except NotFoundError:
            try:
                await js.add_stream(config)
                continue
            except BadRequestError:
                pass  # another replica created it between the two calls
        if stream.owner == service:
            await js.update_stream(config)
