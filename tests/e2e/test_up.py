"""`chibo up` on a machine with nothing but Python: embedded servers, both services, Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import free_port


@pytest.fixture
def data_dir() -> Iterator[Path]:
    folder = ROOT / ".chibo" / f"test-up-{os.getpid()}"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def ready(url: str) -> int:
    with urllib.request.urlopen(url + "/ready", timeout=5) as response:
        return int(response.status)


def test_up_runs_both_services_on_embedded_servers_and_stops_on_ctrl_c(data_dir: Path) -> None:
    ports = {"rules": free_port(), "workflow": free_port()}
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "NATS_URL")}
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
            banner = [up.stdout.readline() for _ in range(8)]  # arrives once all are ready
            text = "".join(banner)
            assert "Chibo is up" in text
            for port in ports.values():
                assert f"http://127.0.0.1:{port}/schema/swagger" in text
                assert ready(f"http://127.0.0.1:{port}") == 200
            assert "postgresql://" in text
            assert "nats://127.0.0.1:" in text
            assert text.count("(embedded)") == 2
        finally:
            up.send_signal(signal.SIGINT)
            code = up.wait(60)
    assert code == 0
    assert (data_dir / "postgres" / "PG_VERSION").exists(), "the data is kept between runs"
    assert not (data_dir / "postgres" / "postmaster.pid").exists(), "PostgreSQL was stopped"
