"""Definitions are versioned: a running case keeps the version it started with."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from services.workflow.app import create_app
from services.workflow.settings import WorkflowSettings
from tests.clock import ManualClock
from tests.integration.casework import INSPECTOR, START, Casework, register


async def test_the_definition_is_served_with_a_mermaid_diagram(workflow: AsyncTestClient) -> None:
    response = await workflow.get("/workflows/inspection")
    body = response.json()
    assert body["definition"]["initial"] == "planned"
    assert body["mermaid"].startswith("stateDiagram-v2")
    assert (await workflow.get("/workflows/nothing")).status_code == 404


async def test_a_running_case_keeps_its_version_after_the_file_changes(
    workflow_settings: WorkflowSettings,
    workflow_clock: ManualClock,
    tmp_path: Path,
    nc: Client,
    db: asyncpg.Connection,
) -> None:
    folder = tmp_path / "workflows"
    shutil.copytree(workflow_settings.definitions_dir, folder)
    settings = msgspec.structs.replace(workflow_settings, definitions_dir=str(folder))
    async with AsyncTestClient(app=create_app(settings, workflow_clock)) as client:
        await register(nc, db)
        old = await Casework.open(client)
        old_version = (await old.detail())["case"]["definition_version"]

    definition = folder / "inspection.yaml"
    text = definition.read_text(encoding="utf-8")
    # The new version lets only an admin start an inspection.
    definition.write_text(
        text.replace("  start:\n    title: Quyết định kiểm tra — decision issued, team assigned\n"
                     "    roles: [inspector, admin]",
                     "  start:\n    title: Quyết định kiểm tra — decision issued, team assigned\n"
                     "    roles: [admin]"),
        encoding="utf-8",
    )  # fmt: skip
    async with AsyncTestClient(app=create_app(settings, workflow_clock)) as client:
        new = await Casework.open(client)
        new_version = (await new.detail())["case"]["definition_version"]
        assert new_version != old_version
        listed = await client.get("/workflows/inspection", headers=INSPECTOR)
        assert listed.json()["version"] == new_version
        old.client = new.client = client
        await new.fire("start", START, expect=403)
        await old.fire("start", START)  # the old case still follows its own version
