"""The case page renders in every state of the default workflow, for each role that works on
cases, with the forms of exactly the triggers the workflow API says that person may fire."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from services.contracts.roles import Role
from services.web.domain import forms
from services.web.entrypoints.render import environment, helpers
from services.web.service import cases
from services.workflow.adapters.files import read_definition
from services.workflow.domain import forms as specs
from services.workflow.domain.machine import Workflow

WORKFLOW = Workflow(read_definition(Path("rules/workflows/inspection.yaml")))
VIEW: Any = msgspec.to_builtins(
    {
        "name": "inspection",
        "version": WORKFLOW.version,
        "title": WORKFLOW.definition.title,
        "states": specs.states(WORKFLOW.definition),
        "triggers": specs.triggers(WORKFLOW.definition),
    }
)
CASE = {
    "id": "k-1", "cell_id": "c-1", "org_id": "xa", "kind": "inspection", "year": 2025,
    "definition": "inspection", "definition_version": WORKFLOW.version, "version": 3,
    "findings": [{"rule_id": "regular-meeting-monthly", "cell_id": "c-1", "scope": "2025-12"}],
    "decision_ref": "15-QĐ/UBKT", "team": [{"name": "Vũ", "role": "leader"}],
    "started_on": "2025-03-03", "inspection_due": "2025-03-22", "remediation_due": None,
    "actions": [{"number": 1, "text": "Bù", "owner": "bt", "due": "2025-05-01", "percent": 40,
                 "note": ""}],
    "shortcomings": [], "self_report": "Báo cáo", "conclusion": None,
    "deadline_kind": "inspection", "deadline_at": "2025-03-22T17:00:00+07:00",
    "inspection_overdue": False, "remediation_overdue": False, "verification_notes": [],
    "extension_days": 0,
}  # fmt: skip
HISTORY = [
    {"version": 1, "at": "2025-03-01T08:00:00+07:00", "actor": "ubkt", "role": "inspector",
     "trigger": "open", "from_state": None, "to_state": "planned", "comment": "", "payload": {}},
    {"version": 2, "at": "2025-03-03T08:00:00+07:00", "actor": "ubkt", "role": "inspector",
     "trigger": "start", "from_state": "planned", "to_state": "in_progress", "comment": "",
     "payload": {"decision_ref": "15", "team": [{"name": "Vũ", "role": "leader"}],
                 "started_on": "2025-03-03"}},
]  # fmt: skip


class _Person:
    def __init__(self, role: Role) -> None:
        self.claims = type("Claims", (), {"roles": [role], "sub": "someone"})()


def render(state: str, role: Role, language: str = "vi", active: Any = None) -> str:
    case = CASE | {"state": state}
    available = WORKFLOW.available(state, [role])
    context = helpers(language)  # type: ignore[arg-type]
    template = environment().get_template("case.html.jinja")
    return template.render(
        **context,
        path="/cases/k-1",
        csrf_input="",
        person=_Person(role),
        cell={"cell_id": "c-1", "name": "Chi bộ 1"},
        case=case,
        view=VIEW,
        history=HISTORY,
        states={s["name"]: s for s in VIEW["states"]},
        triggers={t["name"]: t for t in VIEW["triggers"]},
        diagram=cases.drawn(VIEW, case, HISTORY, language),  # type: ignore[arg-type]
        deadlines=cases.deadlines(case, __import__("datetime").date(2025, 3, 10), language),  # type: ignore[arg-type]
        forms=cases.trigger_forms(VIEW, case, available, active),
        active=active or {},
        done=None,
        exists=False,
        said=lambda spec, value: cases.said(spec, value, language),  # type: ignore[arg-type]
        rows_said=lambda spec, rows: cases.said_rows(spec, rows, language),  # type: ignore[arg-type]
        findings={},
        typed_said=[],
    )


@pytest.mark.parametrize("state", WORKFLOW.definition.states)
@pytest.mark.parametrize("role", [Role.inspector, Role.secretary, Role.admin])
def test_the_case_page_renders_the_forms_the_person_may_fire(state: str, role: Role) -> None:
    html = render(state, role)
    for name in WORKFLOW.definition.triggers:
        shown = f'id="do-{name}"' in html
        assert shown == (name in WORKFLOW.available(state, [role])), (state, role, name)
    assert 'class="state current' in html
    assert "còn 12 ngày" in html


def test_a_refused_form_comes_back_with_what_was_typed_and_the_fault_beside_it() -> None:
    typed = {"f.decision_ref": [""], "f.team.0.name": ["Vũ Văn Kiểm"], "f.started_on": ["x"]}
    start = next(t for t in VIEW["triggers"] if t["name"] == "start")
    reading = forms.read(start["fields"], typed, "c-1")
    active = {"trigger": "start", "typed": typed, "errors": reading.errors}
    html = render("planned", Role.inspector, active=active)
    assert 'value="Vũ Văn Kiểm"' in html
    assert 'id="f-decision_ref-fault">Cần nhập mục này.' in html
    assert 'id="f-started_on-fault">Ngày không hợp lệ (dd/mm/yyyy).' in html
    english = render("planned", Role.inspector, "en", active=active)
    assert "This is required." in english
