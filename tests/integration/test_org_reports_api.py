"""The rules API's org reports for the pages: the monthly calendar of every cell, the trend of
each rule over the months and quarters of a year, the cells' last regular meeting, and the
last reload of the pack, kept for every replica."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from services.contracts.roles import Role
from services.rules.app import create_app
from services.rules.settings import RulesSettings
from tests.clock import ManualClock
from tests.factories import cell_registered, meeting_held
from tests.integration.test_rules_api import MEETINGS, RULES, TREE
from tests.tokens import ADMIN, bearer

# Beside the commune of test_rules_api: a cell founded mid-June 2025 that never meets, and one
# that met in January 2025 and was dissolved on 1 March.
LATE = [
    cell_registered("c-new", org_id="dbcs-a", established_on="2025-06-15", id="cr-new"),
    cell_registered(
        "c-old", org_id="dbcs-b", established_on="2024-01-01", dissolved_on="2025-03-01",
        id="cr-old",
    ),
]  # fmt: skip


@pytest.fixture
async def commune(rules: AsyncTestClient) -> AsyncTestClient:
    old = meeting_held("o-01", "c-old", held_at="2025-01-20T19:00:00+07:00", id="mo-1")
    events = [*TREE, *LATE, *MEETINGS, old]
    for start in range(0, len(events), 5):  # the test service takes 5 events per request
        assert (await rules.post("/events", json=events[start : start + 5])).status_code == 202
    return rules


async def test_cells_are_listed_with_their_last_regular_meeting(
    commune: AsyncTestClient,
) -> None:
    page = (await commune.get("/cells", params={"org_id": "xa-1"})).json()
    last = {c["cell_id"]: c["last_regular_meeting_on"] for c in page["items"]}
    assert last == {"c-a": "2025-11-10", "c-b": None, "c-new": None, "c-old": "2025-01-20"}
    assert (await commune.get("/cells/c-a")).json()["last_regular_meeting_on"] == "2025-11-10"


@pytest.fixture
async def editable(
    rules_settings: RulesSettings, clock: ManualClock, clean: None, tmp_path: Path
) -> AsyncIterator[tuple[AsyncTestClient, Path]]:
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    settings = msgspec.structs.replace(
        rules_settings, rules_dir=str(folder), rules_watch_seconds=3600
    )
    async with AsyncTestClient(app=create_app(settings, clock)) as client:
        client.headers.update(ADMIN)
        yield client, folder


async def test_the_last_reload_is_kept_with_who_asked_and_what_it_came_to(
    editable: tuple[AsyncTestClient, Path], rules_settings: RulesSettings, clock: ManualClock
) -> None:
    client, folder = editable
    assert (await client.get("/rules")).json()["last_reload"] is None
    author = bearer(Role.rule_author, sub="tac-gia")
    assert (await client.post("/rules/reload", headers=author)).status_code == 200
    last = (await client.get("/rules")).json()["last_reload"]
    assert (last["actor"], last["result"], last["impact"]) == ("tac-gia", "unchanged", None)
    assert last["at"].startswith("2025-12-15T")

    rule = folder / "regular-meeting-monthly.yaml"
    rule.write_text(rule.read_text().replace("weight: 10", "weight: 1"))
    outcome = (await client.post("/rules/reload", headers=author)).json()
    last = (await client.get("/rules")).json()["last_reload"]
    assert (last["result"], last["version"]) == ("loaded", outcome["version"])
    assert last["impact"]["rules_changed"] == ["regular-meeting-monthly"]

    rule.write_text("id: regular-meeting-monthly\nweight: heavy\n")
    assert (await client.post("/rules/reload")).status_code == 422
    # Another replica on the same database tells the same last reload.
    async with AsyncTestClient(app=create_app(rules_settings, clock)) as other:
        last = (await other.get("/rules", headers=ADMIN)).json()["last_reload"]
    assert (last["actor"], last["result"]) == ("test-admin", "refused")
    assert last["detail"] == "the rule pack is invalid; the running pack stays in force"
    assert any("regular-meeting-monthly.yaml:" in e for e in last["errors"])
    assert last["version"] == outcome["version"]  # the refused pack never was in force
