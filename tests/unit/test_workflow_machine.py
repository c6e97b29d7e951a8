"""The shared machine: fired on fresh objects, guards decide, the case itself is not moved."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest

from services.infra import logs
from services.workflow.adapters.files import read_definition
from services.workflow.domain.definition import Role
from services.workflow.domain.fields import Payload
from services.workflow.domain.machine import Workflow
from services.workflow.domain.model import Case, DeadlineKind, Kind, record, schedule
from services.workflow.errors import GuardRefusedError, NotFromStateError
from tests.unit.test_workflow_definition import DEFAULT

WORKFLOW = Workflow(read_definition(DEFAULT))


def case(state: str, **fields: Any) -> Case:
    """A case of cell cb-1 in `state`."""
    return Case(
        id="c-1", cell_id="cb-1", org_id="dk-1", kind=Kind.inspection, year=2025, state=state,
        definition="inspection", definition_version=WORKFLOW.version, **fields,
    )  # fmt: skip


def payload(**fields: Any) -> Payload:
    """A payload decoded strictly, as the API decodes it."""
    return msgspec.convert(fields, Payload)


def test_firing_returns_the_new_state_and_leaves_the_case_alone() -> None:
    planned = case("planned")
    team = [{"name": "A", "role": "leader"}]
    assert WORKFLOW.fire(planned, "start", payload(team=team)) == "in_progress"
    assert planned.state == "planned"
    assert WORKFLOW.machine.models == []  # nothing was added to the shared machine


def test_the_first_move_whose_guards_agree_is_taken() -> None:
    verifying = case("verifying")
    assert WORKFLOW.fire(verifying, "conclude", payload(conclusion="ok", shortcomings=[])) == (
        "closed"
    )
    shortcomings = [{"text": "thiếu chuyên đề"}]
    moved = WORKFLOW.fire(
        verifying,
        "conclude",
        payload(conclusion="x", shortcomings=shortcomings, remediation_due="2025-06-30"),
    )
    assert moved == "concluded"


def test_a_refusal_names_every_guard_that_refused() -> None:
    with pytest.raises(GuardRefusedError) as caught:
        WORKFLOW.fire(
            case("verifying"), "conclude", payload(conclusion="x", shortcomings=[{"text": "t"}])
        )
    assert [r["guard"] for r in caught.value.extensions["refusals"]] == [
        "remediation_due_given",
        "no_shortcomings",
    ]


def test_a_trigger_from_another_state_is_refused_before_the_machine() -> None:
    with pytest.raises(NotFromStateError, match="the case is `closed`"):
        WORKFLOW.fire(case("closed"), "cancel", payload())


def test_a_report_of_remediation_needs_every_action_done() -> None:
    planned = case("remediation_planned", remediation_due=date(2025, 6, 30))
    plan = [
        {"text": "a", "owner": "x", "due": "2025-06-01"},
        {"text": "b", "owner": "y", "due": "2025-06-02"},
    ]
    record(planned, payload(actions=plan), "bt", datetime(2025, 5, 1, tzinfo=UTC))
    half = payload(progress=[{"action": 1, "percent": 100}])
    with pytest.raises(GuardRefusedError, match=r"actions \[2\] are not complete"):
        WORKFLOW.fire(planned, "report_remediation", half)
    unknown = payload(progress=[{"action": 3, "percent": 100}])
    with pytest.raises(GuardRefusedError, match="no action"):
        WORKFLOW.fire(planned, "report_progress", unknown)


def test_the_triggers_a_role_may_fire_follow_the_table() -> None:
    assert WORKFLOW.available("remediation_planned", [Role.secretary]) == [
        "submit_plan", "report_progress", "report_remediation",
    ]  # fmt: skip
    assert "submit_plan" not in WORKFLOW.available("remediation_planned", [Role.inspector])


def test_the_running_deadline_follows_the_state() -> None:
    started = case("in_progress", started_on=date(2025, 3, 3))
    schedule(started, WORKFLOW.definition)
    assert started.inspection_due == date(2025, 3, 22)
    assert started.deadline_kind == DeadlineKind.inspection
    assert started.deadline_at == datetime(2025, 3, 22, 17, 0, tzinfo=UTC)
    started.state, started.remediation_due = "concluded", date(2025, 6, 30)
    schedule(started, WORKFLOW.definition)
    assert started.deadline_kind == DeadlineKind.remediation
    started.state = "closed"
    schedule(started, WORKFLOW.definition)
    assert started.deadline_at is None


def test_the_mermaid_diagram_shows_moves_and_guards() -> None:
    diagram = WORKFLOW.mermaid()
    assert diagram.startswith("stateDiagram-v2\n    [*] --> planned\n")
    assert "    verifying --> closed: conclude [no_shortcomings]\n" in diagram
    assert "    closed --> [*]\n" in diagram


def test_a_transition_logs_nothing_of_the_library_at_info(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The audit trail records each move; `transitions` repeating it at INFO is noise per move."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("workflow", "info")
        logging.getLogger("services.workflow").info("own line")
        WORKFLOW.fire(case("planned"), "start", payload(team=[{"name": "A", "role": "leader"}]))
        lines = [msgspec.json.decode(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    assert [line["logger"] for line in lines] == ["services.workflow"]
