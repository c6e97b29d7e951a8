"""Small things a careless or hostile caller found: each refused as it should be, and said so."""

from __future__ import annotations

from litestar.testing import AsyncTestClient


async def test_a_bad_query_value_names_the_parameter_as_the_caller_wrote_it(
    workflow: AsyncTestClient,
) -> None:
    answer = await workflow.get("/cases", params={"state": "Not A State!"})
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["key"] == "state"


async def test_an_invalid_query_without_details_does_not_point_at_missing_errors(
    workflow: AsyncTestClient,
) -> None:
    answer = await workflow.get("/orgs/dk-xa-1/cases/summary", params={"year": ""})
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert ("errors" in body) == ("see `errors`" in body["detail"])
