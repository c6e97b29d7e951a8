"""The workflow service starts, opens a case and moves it."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from tests.integration.casework import START, Casework, published


async def test_a_case_opens_and_starts(workflow: AsyncTestClient, nc: Client) -> None:
    case = await Casework.open(workflow)
    await case.fire("start", START)
    assert await case.trail() == [
        ("open", None, "planned", 1),
        ("start", "planned", "in_progress", 2),
    ]
    messages = await published(nc, 2)
    assert [(s, i) for s, i, _ in messages] == [
        ("chibo.workflow.case.open", f"case-{case.id}-v1"),
        ("chibo.workflow.case.start", f"case-{case.id}-v2"),
    ]


async def test_metrics_count_cases_and_transitions_and_show_consumer_lag(
    workflow: AsyncTestClient,
) -> None:
    case = await Casework.open(workflow)
    await case.fire("start", START)
    response = await workflow.get("/metrics", headers={"Authorization": ""})  # no token needed
    assert response.status_code == 200
    text = response.text
    assert 'chibo_cases_opened_total{by="person"} 1.0' in text
    assert 'chibo_case_transitions_total{trigger="start"} 1.0' in text
    for consumer in ("workflow-findings", "workflow-cells", "workflow-orgs"):
        assert f'chibo_consumer_pending{{consumer="{consumer}"}} 0.0' in text
