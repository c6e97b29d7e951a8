"""Input limits: nesting, lengths and sizes are refused as problem details that echo nothing."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.integration.casework import Casework


def assert_problem(answer: object, status: int) -> None:
    """A problem-details answer of `status` without a trace or the input echoed back."""
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    assert answer.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    text = answer.text  # type: ignore[attr-defined]
    assert "Traceback" not in text
    assert "x" * 100 not in text


async def test_deeply_nested_json_is_a_bad_request_not_a_crash(workflow: AsyncTestClient) -> None:
    case = await Casework.open(workflow)
    deep = b'{"trigger": "start", "expected_version": 1, "payload": {"team": '
    deep += b"[" * 50_000 + b"]" * 50_000 + b"}}"
    answer = await workflow.post(
        f"/cases/{case.id}/transitions", content=deep, headers={"content-type": "application/json"}
    )
    assert_problem(answer, 400)


async def test_over_long_strings_and_lists_are_refused(workflow: AsyncTestClient) -> None:
    case = await Casework.open(workflow)
    long_comment = {"trigger": "start", "expected_version": 1, "comment": "x" * 2001}
    assert_problem(await workflow.post(f"/cases/{case.id}/transitions", json=long_comment), 400)
    many = {"trigger": "start", "expected_version": 1, "payload": {f"k{i}": 1 for i in range(50)}}
    assert_problem(await workflow.post(f"/cases/{case.id}/transitions", json=many), 400)
    findings = [{"rule_id": "r", "cell_id": "cb-1", "scope": "2025"}] * 501
    body = {"cell_id": "cb-1", "org_id": "dk-xa-1", "year": 2025, "findings": findings}
    assert_problem(await workflow.post("/cases", json=body), 400)
    assert_problem(await workflow.get("/cases", params={"cell_id": "x" * 200}), 400)


async def test_a_body_over_the_limit_is_refused_unread(workflow: AsyncTestClient) -> None:
    body = b'{"comment": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    answer = await workflow.post(
        "/cases", content=body, headers={"content-type": "application/json"}
    )
    assert_problem(answer, 413)
