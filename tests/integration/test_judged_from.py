"""History brought in from before Chibo: cells founded in 2020 whose org is judged from
2025-01-01 get no finding, score or proposal before it; moving the judging start re-judges the
cells below the org."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from services.contracts.roles import Role
from tests.factories import cell_registered, meeting_held, org_registered
from tests.tokens import bearer
from tests.waiting import eventually

INSPECTOR = bearer(Role.inspector, org="tinh")


def org(org_id: str, judged_from: str | None, **envelope: Any) -> dict[str, Any]:
    event = org_registered(org_id, "tinh", **envelope)
    if judged_from is not None:
        event["data"]["judged_from"] = judged_from
    return event


def history(cell_id: str, org_id: str) -> list[dict[str, Any]]:
    """A cell founded in 2020 that met every month of 2025 until November, and never before."""
    founded = cell_registered(
        cell_id, org_id=org_id, established_on="2020-01-01", id=f"c-{cell_id}"
    )
    meetings = [
        meeting_held(
            f"{cell_id}-{m}",
            cell_id,
            held_at=f"2025-{m:02d}-10T19:00:00+07:00",
            id=f"{cell_id}-{m}",
        )
        for m in range(1, 12)
    ]
    return [founded, *meetings]


async def post(rules: AsyncTestClient, events: list[dict[str, Any]]) -> None:
    """Post as a source would, a few at a time (the test service takes five a request)."""
    for start in range(0, len(events), 5):
        answer = await rules.post("/events", json=events[start : start + 5])
        assert answer.status_code == 202, answer.text


async def findings_of(rules: AsyncTestClient, cell_id: str) -> list[dict[str, Any]]:
    answer = await rules.get(
        "/findings", params={"cell_id": cell_id, "status": "open", "limit": 500}
    )
    return [item["finding"] for item in answer.json()["items"]]


async def test_nothing_is_judged_before_the_org_s_judging_start(
    rules: AsyncTestClient, workflow: AsyncTestClient
) -> None:
    events = [
        org_registered("tinh", None, id="o-tinh"),
        org("xa-new", "2025-01-01", id="o-new"),
        org("xa-old", None, id="o-old"),  # the control: judged from establishment
        *history("cb-new", "xa-new"),
        *history("cb-old", "xa-old"),
    ]
    await post(rules, events)

    judged = await findings_of(rules, "cb-new")
    assert judged, "2025's gaps are judged"
    assert min(f["period_start"] for f in judged) >= "2025-01-01"
    # No gap counts before the start: nine days to the first meeting are no gap.
    assert not [f for f in judged if f["rule_id"] == "regular-meeting-gap"]
    control = await findings_of(rules, "cb-old")
    assert min(f["period_start"] for f in control) < "2021-01-01"  # the control is judged
    gaps = [f["scope"] for f in control if f["rule_id"] == "regular-meeting-gap"]
    assert gaps == ["since/2020-01-01"]

    for year in range(2020, 2025):
        score = (await rules.get("/cells/cb-new/score", params={"year": year})).json()
        assert (score["status"], score["score"]) == ("not_judged", None), year
    score_2025 = (await rules.get("/cells/cb-new/score", params={"year": 2025})).json()
    assert score_2025["status"] == "provisional"
    # The calendar says why 2024 was not judged: before the start, not "not yet established".
    rows = (await rules.get("/cells/cb-new/compliance", params={"year": 2024})).json()
    reasons = {row["text"]["vi"] for row in rows["judgments"]}
    assert reasons == {
        "Kỳ bắt đầu trước ngày bắt đầu xét của tổ chức (dữ liệu trước đó không được xét)."
    }
    calendar = (await rules.get("/orgs/xa-new/calendar", params={"year": 2024})).json()
    assert calendar["cells"][0]["months"] == ["before_start"] * 12

    # The control's last year before the start is proposed for inspection (the policy proposes
    # for this year and the one before only); the new cell's is not.
    async def proposed(cell_id: str) -> set[int]:
        answer = await workflow.get(
            "/cases", params={"cell_id": cell_id, "state": "proposed"}, headers=INSPECTOR
        )
        return {case["year"] for case in answer.json()["items"]}

    await eventually(lambda: proposed("cb-old"), lambda years: 2024 in years)
    assert min(await proposed("cb-old")) == 2024  # no flood of 2020 to 2023 into the plan
    assert {year for year in await proposed("cb-new") if year < 2025} == set()


async def test_moving_the_judging_start_re_judges_the_cells_below(rules: AsyncTestClient) -> None:
    events = [
        org_registered("tinh", None, id="o-tinh"),
        org("xa-new", "2025-01-01", id="o-new"),
        org_registered("thon", "xa-new", id="o-thon"),  # sets none: its parent's holds
        *history("cb-deep", "thon"),
    ]
    await post(rules, events)
    assert min(f["period_start"] for f in await findings_of(rules, "cb-deep")) >= "2025-01-01"

    earlier = org("xa-new", "2024-01-01", id="o-new-2", time="2025-06-01T08:00:00+07:00")
    assert (await rules.post("/events", json=earlier)).status_code == 202
    judged = await findings_of(rules, "cb-deep")
    assert min(f["period_start"] for f in judged) == "2024-01-01"
    assert not any(f["period_start"] < "2024-01-01" for f in judged)
    # Its own start, below its parent's, holds for its own subtree.
    own = org_registered("thon", "xa-new", id="o-thon-2", time="2025-06-02T08:00:00+07:00")
    own["data"]["judged_from"] = "2025-06-01"
    assert (await rules.post("/events", json=own)).status_code == 202
    assert min(f["period_start"] for f in await findings_of(rules, "cb-deep")) >= "2025-06-01"
