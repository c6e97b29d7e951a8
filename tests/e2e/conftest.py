"""The services as real processes, started the way `chibo up` starts them."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.dev.servers import Servers, free_port
from tests.conftest import ROOT
from tests.tokens import AUTH
from tests.waiting import eventually


def wait_ready(url: str) -> int:
    """The service's `/ready` status once it answers 200 (waited on for at most 30 s)."""

    async def status() -> int:
        async with httpx.AsyncClient(timeout=5) as client:
            try:
                return (await client.get(url + "/ready")).status_code
            except httpx.TransportError:
                return 0

    return asyncio.run(eventually(status, lambda code: code == 200, within=30))


class ServiceProcess:
    """One `chibo serve <name>` child process with its own port."""

    def __init__(self, name: str, servers: Servers, log: Path, **settings: str) -> None:
        self.name = name
        self.log = log
        self.port = free_port()
        prefix = f"CHIBO_{name.upper()}_"
        self.env = {
            **os.environ,
            "DATABASE_URL": servers.database_url,
            "NATS_URL": servers.nats_url,
            "CHIBO_AUTH_KEY": AUTH.key,
            prefix + "PORT": str(self.port),
            **{prefix + key.upper(): value for key, value in settings.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the service's API."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the process (it becomes ready on its own; wait on `/ready`)."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "serve", self.name],
                env=self.env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no drain, no goodbye."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> bool:
        """SIGTERM, wait, and tell whether the service shut down gracefully."""
        assert self.process is not None
        self.process.terminate()
        # uvicorn re-raises the signal once shut down, so the process ends "by SIGTERM".
        code = self.process.wait(30)
        graceful = "Application shutdown complete." in self.log.read_text(encoding="utf-8")
        return graceful and code in (0, -signal.SIGTERM)


@pytest.fixture
def rules_process(servers: Servers, clean: None, tmp_path: Path) -> Iterator[ServiceProcess]:
    """A rules service process on the session's servers, redelivering quickly after a crash."""
    log = tmp_path / "rules.log"
    service = ServiceProcess("rules", servers, log, consumer_ack_wait_seconds="2")
    yield service
    if service.process and service.process.poll() is None:
        service.process.kill()
        service.process.wait()
