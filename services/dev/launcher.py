"""`chibo up`: the servers (embedded unless URLs are set) and both services, until Ctrl-C."""

from __future__ import annotations

import os
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
from services.dev.servers import Servers
from services.infra.auth import AuthSettings
from services.infra.errors import StartupError
from services.infra.settings import from_env

SERVICES = ("rules", "workflow")
READY_TIMEOUT_SECONDS = 30.0


def up(data_dir: Path) -> int:
    """Run everything in the foreground; return the exit code once shut down."""
    stop_requested = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    with Servers(data_dir) as servers:
        env = {**os.environ, "DATABASE_URL": servers.database_url, "NATS_URL": servers.nats_url}
        # Without a configured key, a development key kept beside the data, stable across runs.
        key_configured = dev_tokens.KEY_VARIABLE in env
        env.setdefault(dev_tokens.KEY_VARIABLE, dev_tokens.development_key(data_dir))
        children = {name: _spawn(name, env) for name in SERVICES}
        try:
            urls = {name: _base_url(name, env) for name in SERVICES}
            _wait_ready(urls, children, lambda: stop_requested)
            auth = from_env(AuthSettings, "CHIBO_AUTH_", env)
            minting = dev_tokens.mint_command(data_dir, key_configured)
            tokens = dev_tokens.role_tokens(auth, servers.database_url, minting)
            print(_banner(urls, servers) + "\n" + "\n".join(tokens) + "\n", flush=True)
            while not stop_requested:
                exited = [n for n, p in children.items() if p.poll() is not None]
                if exited:
                    print(f"chibo: the {exited[0]} service stopped; shutting down", flush=True)
                    return 1
                time.sleep(0.2)
            print("chibo: shutting down", flush=True)
            return 0
        finally:
            _terminate(children.values())


def _spawn(name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Own process group: Ctrl-C reaches only this supervisor, which then stops them in order.
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", name], env=env, start_new_session=True
    )


def _base_url(name: str, env: dict[str, str]) -> str:
    prefix = f"CHIBO_{name.upper()}_"
    host = env.get(prefix + "HOST", "127.0.0.1")
    port = env.get(prefix + "PORT", "8001" if name == "rules" else "8002")
    return f"http://{host}:{port}"


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
    for name, url in urls.items():
        lines.append(f"  {name:<9} API   {url}    docs {url}/schema/swagger")
    for name, url in (("postgres", servers.database_url), ("nats", servers.nats_url)):
        version = servers.embedded.get(name)
        lines.append(f"  {name:<13} {url}" + (f" (embedded: {version})" if version else ""))
    lines.append("")
    return "\n".join(lines)
