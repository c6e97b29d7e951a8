"""The rules API's org reports for the pages: the monthly calendar of every cell, the trend of
each rule over the months and quarters of a year, the cells' last regular meeting, and the
last reload of the pack, kept for every replica."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import asyncpg
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from services.contracts.calendar import VIETNAM
from services.contracts.roles import Role
from services.dev.servers import Servers
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


async def test_the_calendar_marks_each_month_of_each_cell_under_the_org(
    commune: AsyncTestClient,
) -> None:
    answer = await commune.get("/orgs/xa-1/calendar", params={"year": 2025})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["rule_id"], body["year"]) == ("regular-meeting-monthly", 2025)
    months = {row["cell_id"]: row["months"] for row in body["cells"]}
    assert list(months) == ["c-a", "c-b", "c-new", "c-old"]  # by id; c-x is elsewhere
    # The clock stands at 15 December 2025: December runs.
    assert months["c-a"] == ["passed"] * 11 + ["not_ended"]
    assert months["c-b"] == ["violated"] * 11 + ["not_ended"]
    # Founded on 15 June: June is not judged, July on are.
    assert months["c-new"] == ["not_active"] * 6 + ["violated"] * 5 + ["not_ended"]
    # Dissolved on 1 March: February was its last month.
    assert months["c-old"] == ["passed", "violated"] + ["not_active"] * 9 + ["not_ended"]


async def test_a_kept_tally_gives_way_to_new_facts_and_to_a_new_day(
    commune: AsyncTestClient, clock: ManualClock, servers: Servers
) -> None:
    async def months(cell_id: str) -> list[str]:
        answer = await commune.get("/orgs/xa-1/calendar", params={"year": 2025})
        assert answer.status_code == 200, answer.text
        return next(row["months"] for row in answer.json()["cells"] if row["cell_id"] == cell_id)

    assert (await months("c-b"))[2] == "violated"
    conn = await asyncpg.connect(servers.database_url)
    try:
        kept = await conn.fetchval("select count(*) from rules.tallies where year = 2025")
        assert kept == 4  # every cell under the org, kept for the next report
        # A meeting in March for c-b: its tallies go, the next report makes them again.
        held = meeting_held("b-03", "c-b", held_at="2025-03-10T19:00:00+07:00", id="mb-03")
        assert (await commune.post("/events", json=[held])).status_code == 202
        assert await conn.fetchval("select count(*) from rules.tallies where cell_id = 'c-b'") == 0
        assert (await months("c-b"))[2] == "passed"
        assert (await months("c-a"))[11] == "not_ended"
        # The next year: December has ended, and a tally made before cannot say so.
        clock.set(datetime(2026, 1, 2, 9, 0, tzinfo=VIETNAM))
        assert (await months("c-a"))[11] != "not_ended"
        assert await conn.fetchval("select count(distinct horizon) from rules.tallies") == 1
    finally:
        await conn.close()


async def test_the_calendar_of_a_year_before_the_cells_is_not_judged(
    commune: AsyncTestClient,
) -> None:
    body = (await commune.get("/orgs/dbcs-a/calendar", params={"year": 2023})).json()
    assert {r["cell_id"]: set(r["months"]) for r in body["cells"]} == {
        "c-a": {"not_active"},
        "c-new": {"not_active"},
    }


async def test_the_calendar_takes_a_monthly_rule_and_refuses_others(
    commune: AsyncTestClient,
) -> None:
    committee = await commune.get(
        "/orgs/xa-1/calendar", params={"year": 2025, "rule": "committee-meeting-monthly"}
    )
    assert committee.status_code == 200
    # No cell here has a committee: the rule does not apply to any of them.
    assert {m for r in committee.json()["cells"] for m in r["months"]} == {"not_applicable"}
    for rule in ("attendance-rate", "thematic-meeting-quarterly", "no-such-rule"):
        refused = await commune.get("/orgs/xa-1/calendar", params={"year": 2025, "rule": rule})
        assert refused.status_code == 422, rule
        assert refused.json()["field"] == "rule"
    assert (await commune.get("/orgs/xa-9/calendar", params={"year": 2025})).status_code == 404


async def test_the_trend_gives_each_month_and_quarter_the_summary_of_that_period(
    commune: AsyncTestClient,
) -> None:
    answer = await commune.get("/orgs/xa-1/trend", params={"year": 2025})
    assert answer.status_code == 200, answer.text
    trend = {r["rule_id"]: r["periods"] for r in answer.json()["rules"]}
    names = [f"2025-{m:02d}" for m in range(1, 13)] + [f"2025-Q{q}" for q in range(1, 5)]
    names.append("2025")
    assert all([p["period"] for p in periods] == names for periods in trend.values())
    monthly = {p["period"]: p for p in trend["regular-meeting-monthly"]}
    # March: c-a met, c-b and c-new did not (c-new founded later, c-old dissolved).
    assert (monthly["2025-03"]["cells_judged"], monthly["2025-03"]["cells_violated"]) == (2, 1)
    assert monthly["2025-03"]["compliant_percent"] == 50.0
    assert (monthly["2025-07"]["cells_judged"], monthly["2025-07"]["cells_violated"]) == (3, 2)
    assert monthly["2025-12"]["cells_judged"] == 0
    assert monthly["2025-12"]["compliant_percent"] is None  # not judged, not 100 %
    # Every period of every rule reads as the summary of that period does, up to today.
    for period in names:
        summary = (await commune.get("/orgs/xa-1/summary", params={"period": period})).json()
        for row in summary:
            got = next(p for p in trend[row["rule_id"]] if p["period"] == period)
            assert (got["cells_judged"], got["cells_violated"], got["compliant_percent"]) == (
                row["cells_judged"], row["cells_violated"], row["compliant_percent"],
            ), (period, row["rule_id"])  # fmt: skip


async def test_cells_are_listed_with_their_last_regular_meeting(
    commune: AsyncTestClient,
) -> None:
    page = (await commune.get("/cells", params={"org_id": "xa-1"})).json()
    last = {c["cell_id"]: c["last_regular_meeting_on"] for c in page["items"]}
    assert last == {"c-a": "2025-11-10", "c-b": None, "c-new": None, "c-old": "2025-01-20"}
    assert (await commune.get("/cells/c-a")).json()["last_regular_meeting_on"] == "2025-11-10"


async def test_cells_listed_for_a_year_carry_their_standing_as_their_score_says(
    commune: AsyncTestClient,
) -> None:
    plain = (await commune.get("/cells", params={"org_id": "xa-1"})).json()["items"]
    assert all(cell["score"] is None for cell in plain)
    listed = await commune.get("/cells", params={"org_id": "xa-1", "year": 2025, "limit": 2})
    assert listed.status_code == 200, listed.text
    first = listed.json()
    rest = await commune.get(
        "/cells", params={"org_id": "xa-1", "year": 2025, "after": first["next_after"]}
    )
    for cell in first["items"] + rest.json()["items"]:
        full = (await commune.get(f"/cells/{cell['cell_id']}/score", params={"year": 2025})).json()
        brief = {key: full[key] for key in ("year", "status", "score", "band", "band_label")}
        assert cell["score"] == brief, cell["cell_id"]
    assert {c["score"]["status"] for c in first["items"]} == {"provisional"}
    assert (await commune.get("/cells", params={"year": 1800})).status_code == 400


async def test_cells_are_listed_by_their_ids_a_few_at_once(commune: AsyncTestClient) -> None:
    answer = await commune.get("/cells", params={"cells": "c-old,c-a,c-nobody"})
    assert answer.status_code == 200, answer.text
    assert [cell["cell_id"] for cell in answer.json()["items"]] == ["c-a", "c-old"]
    # Beyond the caller's reach reads as absent: the commune's inspector does not see c-x.
    theirs = bearer(Role.inspector, org="xa-1")
    seen = await commune.get("/cells", params={"cells": "c-a,c-x"}, headers=theirs)
    assert [cell["cell_id"] for cell in seen.json()["items"]] == ["c-a"]


async def test_the_calendar_of_some_cells_only(commune: AsyncTestClient) -> None:
    answer = await commune.get(
        "/orgs/xa-1/calendar", params={"year": 2025, "cells": "c-new,c-a,c-x"}
    )
    assert answer.status_code == 200, answer.text
    # By id, and only those under the org: c-x is elsewhere.
    assert [row["cell_id"] for row in answer.json()["cells"]] == ["c-a", "c-new"]
    refused = await commune.get("/orgs/xa-1/calendar", params={"year": 2025, "cells": "c-a,,c-b"})
    assert refused.status_code == 400


@pytest.mark.parametrize("route", ["calendar", "trend"])
async def test_an_org_report_is_404_beyond_the_callers_org_and_403_to_a_secretary(
    commune: AsyncTestClient, route: str
) -> None:
    path, year = f"/orgs/xa-1/{route}", {"year": 2025}
    inside = await commune.get(path, params=year, headers=bearer(Role.viewer, org="xa-1"))
    assert inside.status_code == 200
    below = await commune.get(
        "/orgs/dbcs-a/" + route, params=year, headers=bearer(Role.inspector, org="xa-1")
    )
    assert below.status_code == 200
    other = await commune.get(path, params=year, headers=bearer(Role.viewer, org="xa-2"))
    assert other.status_code == 404
    secretary = await commune.get(path, params=year, headers=bearer(Role.secretary, cell="c-a"))
    assert secretary.status_code == 403


async def test_the_new_reports_are_in_the_openapi_document(commune: AsyncTestClient) -> None:
    paths = (await commune.get("/schema/openapi.json")).json()["paths"]
    calendar = paths["/orgs/{org_id}/calendar"]["get"]
    assert {p["name"] for p in calendar["parameters"]} >= {"org_id", "year", "rule"}
    assert "422" in calendar["responses"]
    assert "/orgs/{org_id}/trend" in paths


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
