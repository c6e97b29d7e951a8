"""The deploy configuration holds what its README promises, stream by stream and user by user."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from services.infra.streams import STREAMS

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
NATS_CONF = (DEPLOY / "nats" / "nats.conf").read_text(encoding="utf-8")
ACCOUNTS = (DEPLOY / "nats" / "accounts.conf").read_text(encoding="utf-8")
README = (DEPLOY / "README.md").read_text(encoding="utf-8")


def _nodes() -> list[str]:
    return [name for name in COMPOSE["services"] if name.startswith("nats-")]


def test_every_service_runs_every_stream_on_every_node_of_the_cluster() -> None:
    nodes = len(_nodes())
    assert nodes == 3
    for name in ("rules", "workflow"):
        environment = COMPOSE["services"][name]["environment"]
        for owner in {stream.owner for stream in STREAMS}:
            assert environment[f"CHIBO_{owner.upper()}_STREAM_REPLICAS"] == str(nodes), name


def test_the_sync_interval_is_the_one_the_readme_promises() -> None:
    settings = [line for line in NATS_CONF.splitlines() if not line.lstrip().startswith("#")]
    [interval] = re.findall(r'sync_interval:\s*"?(\w+)"?', "\n".join(settings))
    assert interval == "10s"
    assert "every `sync_interval`, **10 s**" in README


def _publishes(user: str) -> list[str]:
    block = ACCOUNTS[ACCOUNTS.index(f"user: {user},") :]
    allowed = block[block.index("publish:") : block.index("}", block.index("publish:"))]
    return re.findall(r'"([^"]+)"', allowed)


def test_each_user_publishes_what_its_service_sends_and_sources_only_events() -> None:
    assert _publishes("sources") == ["chibo.events.>"]
    rules = _publishes("rules")
    # The rules service puts events posted over HTTP on the events stream, too.
    assert {"chibo.events.>", "chibo.findings.>", "chibo.dlq.>"} <= set(rules)
    assert {"chibo.workflow.>", "chibo.dlq.workflow"} <= set(_publishes("workflow"))
    for stream in STREAMS:
        owner = _publishes(stream.owner)
        assert any(subject in owner for subject in stream.subjects), stream.name
