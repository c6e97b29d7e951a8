"""`chibo up`: the servers (embedded unless URLs are set) and every service — rules, workflow
and the pages — until Ctrl-C. `chibo cluster`: the same with the layout of deploy/ on one
machine — a three-node JetStream cluster whose streams keep three replicas, and two replicas of
the rules and workflow services."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType

from services.dev import tokens as dev_tokens
from services.dev.servers import ACCOUNT_USERS, CLUSTER_NODES, Servers
from services.infra.auth import AuthSettings
from services.infra.errors import StartupError
from services.infra.settings import from_env

SERVICES = ("rules", "workflow", "web")
DEFAULT_PORTS = {"web": "8000", "rules": "8001", "workflow": "8002"}
READY_TIMEOUT_SECONDS = 30.0
CLUSTER_REPLICAS = {"rules": 2, "workflow": 2, "web": 1}
"""Replicas of each service `chibo cluster` runs: the Nth listens 10 times (N - 1) above the
first's port (8001 and 8011 for the rules service)."""
CLUSTER_STREAM_REPLICAS = "3"
NATS_USERS_FILE = "nats-users.json"
"""Where `chibo cluster` keeps the passwords it made for the NATS users, by user."""


def up(data_dir: Path, *, cluster: bool = False) -> int:
    """Run everything in the foreground; return the exit code once shut down."""
    stop_requested = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    nodes = CLUSTER_NODES if cluster else 1
    # An embedded cluster authenticates every client as deployed: each NATS user of deploy/'s
    # accounts gets a password made for this run (a NATS_URL given is used as it is).
    embedded_cluster = cluster and not os.environ.get("NATS_URL")
    passwords = {u: secrets.token_urlsafe(18) for u in ACCOUNT_USERS} if embedded_cluster else None
    folder = data_dir / "cluster" if cluster else data_dir
    if passwords is not None:  # for source systems and tests to connect as one of them
        _keep_private(folder / NATS_USERS_FILE, json.dumps(passwords, indent=2) + "\n")
    with Servers(folder, nats_nodes=nodes, nats_passwords=passwords) as servers:
        env = {**os.environ, "DATABASE_URL": servers.database_url, "NATS_URL": servers.nats_url}
        # Without a configured key, a development key kept beside the data, stable across runs.
        key_configured = dev_tokens.KEY_VARIABLE in env
        env.setdefault(dev_tokens.KEY_VARIABLE, dev_tokens.development_key(data_dir))
        if cluster:  # every stream on every node, each service its own user, as deployed
            env.setdefault("CHIBO_RULES_STREAM_REPLICAS", CLUSTER_STREAM_REPLICAS)
            env.setdefault("CHIBO_WORKFLOW_STREAM_REPLICAS", CLUSTER_STREAM_REPLICAS)
        if passwords is not None:
            for service in ("rules", "workflow"):
                env[f"CHIBO_{service.upper()}_NATS_USER"] = service
                env[f"CHIBO_{service.upper()}_NATS_PASSWORD"] = passwords[service]
        limit = restart_limit(env)
        replicas = CLUSTER_REPLICAS if cluster else dict.fromkeys(SERVICES, 1)
        # The pages call the APIs where this launcher runs them (their first replicas), unless
        # told otherwise.
        env.setdefault("CHIBO_WEB_RULES_URL", _first_url("rules", env))
        env.setdefault("CHIBO_WEB_WORKFLOW_URL", _first_url("workflow", env))
        instances = _instances(env, replicas)
        urls = {name: url for name, (_, url, _) in instances.items()}

        def spawn(name: str) -> subprocess.Popen[bytes]:
            service, _, own = instances[name]
            return _spawn(service, own)

        children: dict[str, subprocess.Popen[bytes]] = {}
        try:
            # On a cluster, one at a time: each service brings the streams up to date as it
            # starts, and two doing so at once race for the same stream's update.
            for group in [[name] for name in urls] if cluster else [list(urls)]:
                children.update((name, spawn(name)) for name in group)
                _wait_ready({name: urls[name] for name in group}, children, lambda: stop_requested)
            auth = from_env(AuthSettings, "CHIBO_AUTH_", env)
            minting = dev_tokens.mint_command(data_dir, key_configured)
            links = dev_tokens.signin_links(auth, servers.database_url, urls["web"])
            tokens = dev_tokens.role_tokens(auth, servers.database_url, minting)
            lines = [_banner(urls, servers), *links, *tokens]
            if passwords is not None:
                users = folder / NATS_USERS_FILE
                lines.append(f"  nats users   deploy/nats/accounts.conf's, passwords in {users}")
            print("\n".join(lines) + "\n", flush=True)
            supervisor = Supervisor(children, spawn, limit)
            while not stop_requested:
                if (gave_up := supervisor.check(time.monotonic())) is not None:
                    print(f"chibo: {gave_up}; shutting down", flush=True)
                    return 1
                time.sleep(0.2)
            print("chibo: shutting down", flush=True)
            return 0
        finally:
            _terminate(children.values())


RESTART_LIMIT = 5  # crashes of one service within RESTART_WINDOW_SECONDS before `up` gives up
RESTART_WINDOW_SECONDS = 300.0
RESTART_LIMIT_VARIABLE = "CHIBO_UP_RESTART_LIMIT"


def restart_limit(env: dict[str, str]) -> int:
    """How many crashes of one service `up` restarts within the window (0: none)."""
    raw = env.get(RESTART_LIMIT_VARIABLE, str(RESTART_LIMIT))
    if not raw.isdigit():
        raise StartupError(f"{RESTART_LIMIT_VARIABLE} must be a whole number ≥ 0, not {raw!r}")
    return int(raw)


class Supervisor:
    """Restarts a service that stopped on its own, after a pause that doubles with each crash,
    until one service has crashed more than `limit` times within the window."""

    def __init__(
        self,
        children: dict[str, subprocess.Popen[bytes]],
        spawn: Callable[[str], subprocess.Popen[bytes]],
        limit: int,
    ) -> None:
        self.children = children
        self.spawn = spawn
        self.limit = limit
        self.crashes: dict[str, list[float]] = {name: [] for name in children}
        self.due: dict[str, float] = {}  # service → when its restart is due

    def check(self, now: float) -> str | None:
        """Notice stopped services and restart those due; say why when giving up."""
        for name, process in self.children.items():
            if name in self.due or (code := process.poll()) is None:
                continue
            recent = [t for t in self.crashes[name] if now - t < RESTART_WINDOW_SECONDS] + [now]
            self.crashes[name] = recent
            if len(recent) > self.limit:
                return (
                    f"the {name} service stopped (exit code {code}) {len(recent)} times "
                    f"within {RESTART_WINDOW_SECONDS:.0f} s"
                )
            pause = 2.0 ** (len(recent) - 1)
            print(
                f"chibo: the {name} service stopped (exit code {code}); "
                f"restarting it in {pause:.0f} s",
                flush=True,
            )
            self.due[name] = now + pause
        for name, when in list(self.due.items()):
            if now >= when:
                del self.due[name]
                self.children[name] = self.spawn(name)
        return None


def _spawn(name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Own process group: Ctrl-C reaches only this supervisor, which then stops them in order.
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", name], env=env, start_new_session=True
    )


Instance = tuple[str, str, dict[str, str]]
"""A service's replica: the service, its base URL, and its environment."""


def _keep_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by this user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")


def _first_url(service: str, env: dict[str, str]) -> str:
    return _instances(env, {service: 1})[service][1]


def _instances(env: dict[str, str], replicas: dict[str, int]) -> dict[str, Instance]:
    """Each replica by name (`rules`, then `rules-2`, ...), its port 10 above the one before."""
    found: dict[str, Instance] = {}
    for service in replicas:
        prefix = f"CHIBO_{service.upper()}_"
        host = env.get(prefix + "HOST", "127.0.0.1")
        first = int(env.get(prefix + "PORT", DEFAULT_PORTS[service]))
        for number in range(1, replicas[service] + 1):
            port = first + 10 * (number - 1)
            name = service if number == 1 else f"{service}-{number}"
            found[name] = (service, f"http://{host}:{port}", env | {prefix + "PORT": str(port)})
    return found


def _wait_ready(
    urls: dict[str, str],
    children: dict[str, subprocess.Popen[bytes]],
    stopping: Callable[[], bool],
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    pending = dict(urls)
    while pending:
        for name, url in list(pending.items()):
            if children[name].poll() is not None:
                raise StartupError(f"the {name} service exited during start-up")
            if _is_ready(url):
                del pending[name]
        if pending and (time.monotonic() > deadline or stopping()):
            raise StartupError(f"not ready in time: {', '.join(pending)}")
        time.sleep(0.1)


def _is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/ready", timeout=1) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _terminate(children: Iterable[subprocess.Popen[bytes]]) -> None:
    processes = list(children)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _banner(urls: dict[str, str], servers: Servers) -> str:
    lines = ["", "Chibo is up. Ctrl-C stops everything.", ""]
    lines.append(f"  {'pages':<13} {urls['web']}")
    for name, url in urls.items():
        if not name.startswith("web"):
            lines.append(f"  {name:<10} API  {url}    docs {url}/schema/swagger")
    for name, url in (("postgres", servers.database_url), ("nats", servers.nats_url)):
        version = servers.embedded.get(name)
        lines.append(f"  {name:<13} {url}" + (f" (embedded: {version})" if version else ""))
    lines.append("")
    return "\n".join(lines)
