"""The NATS connection both services share: credentials, connecting, draining."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError

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


async def is_reachable(nc: Client | None) -> bool:
    """True when NATS answers a ping: a connection that looks up may lead to a server that has
    stopped answering."""
    if nc is None or not nc.is_connected:
        return False
    try:
        await nc.flush()
    except (NatsError, OSError):
        return False
    return True


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
