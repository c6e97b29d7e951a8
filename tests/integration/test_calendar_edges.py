"""Dates at the ends of the calendar are refused by name, and never cost a valid neighbour.

The contract bounds every date and instant to 1930-01-01 .. 2100-12-31, Vietnam time: before
the first cell could meet, after any plausible record. Outside it, Python's dates overflow
when moved to Vietnam time and PostgreSQL refuses them: both were 500s.
"""

from __future__ import annotations

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from tests.factories import cell_registered, meeting_held, org_registered
from tests.integration.casework import SECRETARY, START, Casework
from tests.waiting import eventually

FAR = ["9999-12-31T23:00:00-12:00", "0001-01-01T00:00:00+14:00", "1929-12-31T23:59:59+07:00",
       "2101-01-01T00:00:00+07:00"]  # fmt: skip


@pytest.mark.parametrize("moment", FAR)
@pytest.mark.parametrize("where", ["held_at", "time"])
async def test_an_instant_out_of_range_is_refused_by_name_and_its_neighbour_stored(
    rules: AsyncTestClient, db: asyncpg.Connection, moment: str, where: str
) -> None:
    far = meeting_held("m-far", id="evt-far", **{where: moment})
    good = meeting_held("m-good", id="evt-good")
    answer = await rules.post("/events", json=[far, good])
    assert answer.status_code == 422, answer.text
    body = answer.json()
    [error] = body["errors"]
    assert error["field"] == ("$.data.held_at" if where == "held_at" else "$.time")
    assert "between 1930-01-01 and 2100-12-31" in error["message"]
    assert body["accepted"] == ["evt-good"]
    assert await db.fetchval("select count(*) from rules.events") == 1


async def test_a_registration_date_out_of_range_is_refused_by_name(
    rules: AsyncTestClient,
) -> None:
    answer = await rules.post("/events", json=cell_registered("c-9", established_on="0001-01-01"))
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "$.data.established_on"


async def test_a_since_out_of_range_is_refused_by_name(rules: AsyncTestClient) -> None:
    answer = await rules.get("/findings", params={"since": "9999-12-31T23:59:59-23:59"})
    assert answer.status_code in (400, 422), answer.text
    assert "since" in answer.text
    assert "9999" not in answer.text  # problem details never carry the query


@pytest.mark.parametrize("period", ["0000", "9999", "9999-12", "9999-Q4", "1929-12"])
async def test_a_period_out_of_range_is_refused_by_name(
    rules: AsyncTestClient, period: str
) -> None:
    await rules.post("/events", json=org_registered("org-1"))
    await eventually(lambda: rules.get("/orgs/org-1/summary", params={"period": "2025"}),
                     lambda answer: answer.status_code == 200)  # fmt: skip
    answer = await rules.get("/orgs/org-1/summary", params={"period": period})
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "period"
    assert period not in answer.text  # problem details never carry the query


async def test_a_start_or_a_due_date_out_of_range_is_refused_by_name(
    workflow: AsyncTestClient,
) -> None:
    case = await Casework.open(workflow)
    late = {**START, "started_on": "9999-12-25"}
    refused = await case.fire("start", late, expect=400)
    assert refused.json()["field"] == "payload.started_on"
    await case.to_verifying()
    conclusion = {"conclusion": "Còn hạn chế", "shortcomings": [{"text": "Thiếu biên bản"}],
                  "remediation_due": "9999-12-31"}  # fmt: skip
    refused = await case.fire("conclude", conclusion, expect=400)
    assert refused.json()["field"] == "payload.remediation_due"
    assert (await case.detail(SECRETARY))["case"]["state"] == "verifying"


async def test_an_event_the_database_refuses_costs_none_of_its_neighbours(
    rules: AsyncTestClient, db: asyncpg.Connection
) -> None:
    # A refusal no contract check foresees, made by the real database: a trigger on one id.
    await db.execute(
        """create function rules.refuse_one() returns trigger language plpgsql as $$
        begin
            if new.id = 'evt-refused' then raise exception 'refused for the test'; end if;
            return new;
        end $$;
        create trigger refuse_one before insert on rules.events
            for each row execute function rules.refuse_one();"""
    )
    batch = [meeting_held("m-1", id="evt-1"), meeting_held("m-2", id="evt-refused"),
             meeting_held("m-3", id="evt-3")]  # fmt: skip
    answer = await rules.post("/events", json=batch)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert [(e["index"], e["id"]) for e in body["errors"]] == [(1, "evt-refused")]
    assert "refused by the database: refused for the test" in body["errors"][0]["message"]
    assert body["accepted"] == ["evt-1", "evt-3"]
    stored = await db.fetch("select id from rules.events order by id")
    assert [r["id"] for r in stored] == ["evt-1", "evt-3"]


async def test_a_malformed_period_is_named_before_the_org_is_looked_up(
    rules: AsyncTestClient,
) -> None:
    answer = await rules.get("/orgs/no-such-org/summary.csv", params={"period": "0000"})
    assert answer.status_code == 422, answer.text  # the request itself is wrong, whatever org
    assert answer.json()["field"] == "period"
