"""NATS JetStream access shared by both services: connection and streams."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from services.infra.errors import StartupError

log = logging.getLogger(__name__)


class NatsCredentials(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """How a service proves itself to NATS: user and password, a token, or an nkey seed file.

    All empty means no credentials (the embedded development server). See deploy/nats/.
    """

    user: str | None = None
    password: str | None = None
    token: str | None = None
    nkey_seed_file: str | None = None

    def options(self) -> dict[str, Any]:
        """The `nats.connect` keyword arguments for these credentials."""
        if (self.user is None) != (self.password is None):
            raise StartupError("NATS credentials: give both the user and the password")
        chosen = [m for m in (self.user, self.token, self.nkey_seed_file) if m is not None]
        if len(chosen) > 1:
            raise StartupError("NATS credentials: choose one of user, token or nkey seed file")
        if self.user is not None:
            return {"user": self.user, "password": self.password}
        if self.token is not None:
            return {"token": self.token}
        if self.nkey_seed_file is not None:
            return {"nkeys_seed": self.nkey_seed_file}
        return {}


async def connect(url: str, name: str, credentials: NatsCredentials | None = None) -> Client:
    """Connect to NATS (`url` may list several servers, comma-separated), reconnecting forever."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats error: %s", exc)

    async def on_disconnected() -> None:
        log.warning("nats disconnected")

    async def on_reconnected() -> None:
        log.info("nats reconnected")

    return await nats.connect(
        [server.strip() for server in url.split(",") if server.strip()],
        name=name,
        max_reconnect_attempts=-1,
        connect_timeout=5,
        error_cb=on_error,
        disconnected_cb=on_disconnected,
        reconnected_cb=on_reconnected,
        **(credentials or NatsCredentials()).options(),
    )


async def ensure_stream(
    js: JetStreamContext,
    name: str,
    subjects: list[str],
    *,
    max_age_days: float,
    replicas: int,
    update: bool = True,
) -> None:
    """Create the stream, or bring an existing one's subjects and limits up to date.

    With `update=False` an existing stream is left as it is: for a consumer that only needs the
    stream to exist while another service owns its configuration.
    """
    config = StreamConfig(
        name=name,
        subjects=subjects,
        storage=StorageType.FILE,
        max_age=max_age_days * 86_400,
        duplicate_window=120,
        num_replicas=replicas,
    )
    try:
        await js.stream_info(name)
    except NotFoundError:
        try:
            await js.add_stream(config)
            return
        except BadRequestError:
            pass  # another replica created it between the two calls
    if update:
        await js.update_stream(config)


def is_connected(nc: Client | None) -> bool:
    """True when the NATS connection is up."""
    return nc is not None and nc.is_connected


async def close(nc: Client) -> None:
    """Drain the connection (finish in-flight work), or just close it if it is already down."""
    try:
        await nc.drain()
    except (NatsError, OSError) as exc:
        log.warning("nats drain failed, closing: %s", exc)
        await nc.close()


# How long a pull request waits when no message is waiting. Once one arrives, the batch fills
# with what comes until then: this also bounds how long a trickle of messages waits.
FETCH_SECONDS = 0.2
