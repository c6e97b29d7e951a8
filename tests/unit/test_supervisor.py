"""`chibo up` restarts a service that stopped on its own, with a pause, and gives up in time."""

from __future__ import annotations

import subprocess
import sys

import pytest

from services.dev.launcher import RESTART_WINDOW_SECONDS, Supervisor, restart_limit
from services.infra.errors import StartupError


def crashing() -> subprocess.Popen[bytes]:
    """A real child that stops at once with exit code 3, the way a crashed service stops."""
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    process.wait(30)
    return process


def test_a_stopped_service_is_restarted_after_a_pause_that_doubles(
    capsys: pytest.CaptureFixture[str],
) -> None:
    spawned: list[str] = []

    def spawn(name: str) -> subprocess.Popen[bytes]:
        spawned.append(name)
        return crashing()

    supervisor = Supervisor({"rules": crashing()}, spawn, limit=5)
    assert supervisor.check(now=100.0) is None
    assert spawned == []  # the first pause is one second
    assert supervisor.check(now=100.9) is None
    assert spawned == []
    assert supervisor.check(now=101.0) is None
    assert spawned == ["rules"]
    assert supervisor.check(now=101.1) is None  # crashed again: two seconds this time
    assert supervisor.check(now=103.0) is None
    assert spawned == ["rules"]
    assert supervisor.check(now=103.1) is None
    assert spawned == ["rules", "rules"]
    said = capsys.readouterr().out.splitlines()
    assert said == [
        "chibo: the rules service stopped (exit code 3); restarting it in 1 s",
        "chibo: the rules service stopped (exit code 3); restarting it in 2 s",
    ]


def test_past_the_limit_within_the_window_it_gives_up_naming_the_service() -> None:
    supervisor = Supervisor({"workflow": crashing()}, lambda name: crashing(), limit=1)
    assert supervisor.check(now=0.0) is None
    assert supervisor.check(now=1.0) is None  # restarted; it crashes again
    assert supervisor.check(now=2.0) == (
        "the workflow service stopped (exit code 3) 2 times within 300 s"
    )


def test_crashes_older_than_the_window_are_forgiven() -> None:
    supervisor = Supervisor({"workflow": crashing()}, lambda name: crashing(), limit=1)
    assert supervisor.check(now=0.0) is None
    assert supervisor.check(now=1.0) is None
    assert supervisor.check(now=1.0 + RESTART_WINDOW_SECONDS) is None  # only this one counts


def test_a_running_service_is_left_alone() -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as running:
        try:
            supervisor = Supervisor({"rules": running}, lambda name: crashing(), limit=0)
            assert supervisor.check(now=0.0) is None
            assert supervisor.children["rules"] is running
        finally:
            running.kill()


def test_the_limit_is_read_from_the_environment_and_checked() -> None:
    assert restart_limit({}) == 5
    assert restart_limit({"CHIBO_UP_RESTART_LIMIT": "0"}) == 0
    with pytest.raises(StartupError, match="CHIBO_UP_RESTART_LIMIT must be a whole number"):
        restart_limit({"CHIBO_UP_RESTART_LIMIT": "many"})
