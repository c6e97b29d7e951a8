"""The case pages: the board of cases by state, "my cases", one case with the forms of the
triggers the person may fire now, and opening a case from a cell's page.

A form that the API refuses comes back with what the person typed in place: a fault beside the
field or guard the API named (400, 422), or the case's new state when someone else moved it
meanwhile (409).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import MediaType, Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from services.contracts.calendar import VIETNAM
from services.contracts.wording import Words
from services.web.domain import forms
from services.web.domain.words import GUARDS
from services.web.entrypoints.deps import CallerDep, PersonDep
from services.web.entrypoints.render import language_of, page
from services.web.errors import ApiError
from services.web.service import cases

StateQuery = Annotated[str | None, Parameter(pattern=r"^[a-z][a-z0-9_]{0,63}$", required=False)]
YearQuery = Annotated[int | None, Parameter(ge=1930, le=2100, required=False)]
FlagQuery = Annotated[str | None, Parameter(pattern=r"^(1|true)?$", required=False)]
CASE_ID = r"^[A-Za-z0-9._-]{1,64}$"
UNREADABLE = Words("Giá trị không hợp lệ.", "This value cannot be accepted.")


@get("/cases", name="cases")
async def board(
    request: Request[Any, Any, Any],
    person: PersonDep,
    caller: CallerDep,
    case_state: Annotated[
        str | None, Parameter(query="state", pattern=r"^[a-z][a-z0-9_]{0,63}$", required=False)
    ] = None,
    year: YearQuery = None,
    overdue: FlagQuery = None,
    mine: FlagQuery = None,
) -> Template:
    """The cases the person reaches, by state, narrowed by the filters chosen."""
    filters = {
        "state": case_state,
        "year": year,
        "overdue": "true" if overdue else None,
        "mine": "true" if mine else None,
    }
    shown = await cases.board(caller, filters)
    chosen = {"state": case_state or "", "year": year, "overdue": bool(overdue), "mine": bool(mine)}
    return page(request, "cases.html.jinja", person=person, chosen=chosen, **shown)


@get("/cases/mine")
async def my_cases() -> Redirect:
    """The signed-in inspector's own cases: opened or accepted by them, or naming them on the
    team."""
    return Redirect("/cases?mine=1")


@get("/cases/{case_id:str}")
async def case(
    request: Request[Any, Any, Any],
    person: PersonDep,
    caller: CallerDep,
    case_id: Annotated[str, Parameter(pattern=CASE_ID)],
    done: StateQuery = None,
    exists: FlagQuery = None,
) -> Template:
    """A case: timeline, deadlines, the workflow with its state marked, and the forms of the
    triggers the person may fire now."""
    return await _case_page(request, person, caller, case_id, done=done, exists=bool(exists))


@post("/cases/{case_id:str}/fire", status_code=200, media_type=MediaType.HTML)
async def fire(
    request: Request[Any, Any, Any],
    person: PersonDep,
    caller: CallerDep,
    case_id: Annotated[str, Parameter(pattern=CASE_ID)],
) -> Any:
    """Fire the trigger of the submitted form; back to the case, or the form with its faults."""
    form = await request.form()
    typed = forms.typed_of(form)
    trigger = str(form.get("trigger", ""))
    shown = await cases.case_page(caller, case_id)
    spec = next((t for t in shown["view"]["triggers"] if t["name"] == trigger), None)
    expected = str(form.get("expected_version", ""))
    if spec is None or not expected.isdigit():  # not a form this page drew
        return await _case_page(request, person, caller, case_id, status=400, shown=shown)
    active: dict[str, Any] = {"trigger": trigger, "typed": typed}
    if more := form.get("more"):  # "one more row" of a list, without sending anything
        active["more"] = {str(more): 1}
        return await _case_page(request, person, caller, case_id, active=active, shown=shown)
    if expected != str(shown["case"]["version"]):  # moved since the form was drawn
        active["conflict"] = True
        return await _case_page(request, person, caller, case_id, active, 409, shown=shown)
    reading = forms.read(spec["fields"], typed, shown["case"]["cell_id"])
    if reading.errors:
        active["errors"] = reading.errors
        return await _case_page(request, person, caller, case_id, active, 400, shown=shown)
    body = {
        "trigger": trigger,
        "expected_version": int(expected),
        "comment": str(form.get("comment", "")).strip(),
        "payload": reading.payload,
    }
    try:
        await caller.post("workflow", f"/cases/{case_id}/transitions", body)
    except ApiError as exc:
        if exc.status_code not in (400, 409, 422):
            raise
        active |= _faults(exc)
        fresh = None if exc.status_code == 409 else shown  # after a conflict, the case as it is
        return await _case_page(
            request, person, caller, case_id, active, exc.status_code, shown=fresh
        )
    return Redirect(f"/cases/{case_id}?done={trigger}#timeline", status_code=303)


@post("/cells/{cell_id:str}/cases", status_code=200)
async def open_case(
    request: Request[Any, Any, Any],
    caller: CallerDep,
    cell_id: Annotated[str, Parameter(pattern=CASE_ID)],
) -> Redirect:
    """Open an inspection of the cell for the chosen year, citing its open findings of that
    year; to the new case's page."""
    form = await request.form()
    cell = await caller.get("rules", f"/cells/{cell_id}")
    year = int(str(form.get("year", "")) or datetime.now(VIETNAM).year)
    found = await caller.get(
        "rules", "/findings", {"cell_id": cell_id, "status": "open", "limit": 200}
    )
    refs = [
        {"rule_id": f["finding"]["rule_id"], "cell_id": cell_id, "scope": f["finding"]["scope"]}
        for f in found["items"]
        if f["finding"]["period_end"].startswith(f"{year}-")
    ]
    body = {
        "cell_id": cell_id,
        "org_id": cell["org_id"],
        "year": year,
        "findings": refs,
        "comment": str(form.get("comment", "")).strip(),
    }
    try:
        opened = await caller.post("workflow", "/cases", body)
    except ApiError as exc:
        existing = exc.problem.get("existing")
        if exc.status_code != 409 or not isinstance(existing, str):
            raise
        return Redirect(f"/cases/{existing}?exists=1", status_code=303)
    return Redirect(f"/cases/{opened['id']}", status_code=303)


def _faults(exc: ApiError) -> dict[str, Any]:
    """What the API's refusal says, where the form shows it."""
    problem = exc.problem
    if exc.status_code == 409:
        return {"conflict": True}
    if exc.status_code == 422:
        refusals = [
            {
                "guard": r.get("guard", ""),
                "words": GUARDS.get(r.get("guard", "")),
                "reason": r.get("reason", ""),
            }
            for r in problem.get("refusals") or []
        ]
        return {"refusals": refusals or [{"guard": "", "words": None, "reason": exc.detail}]}
    named = problem.get("field")
    errors = {forms.api_key(named): UNREADABLE} if isinstance(named, str) else {}
    for error in exc.errors:
        if isinstance(error, dict) and isinstance(error.get("field"), str):
            errors[forms.api_key(error["field"])] = UNREADABLE
    return {"errors": errors or {"payload": UNREADABLE}, "detail": exc.detail}


async def _case_page(
    request: Request[Any, Any, Any],
    person: Any,
    caller: Any,
    case_id: str,
    active: dict[str, Any] | None = None,
    status: int = 200,
    *,
    done: str | None = None,
    exists: bool = False,
    shown: dict[str, Any] | None = None,
) -> Template:
    if shown is None:
        shown = await cases.case_page(caller, case_id)
    language = language_of(request)
    detail, case, view = shown["detail"], shown["case"], shown["view"]
    history = detail["history"]
    triggers = {t["name"]: t for t in view["triggers"]}
    return page(
        request,
        "case.html.jinja",
        status=status,
        path=f"/cases/{case_id}",  # where switching language returns to, after a form too
        person=person,
        cell=shown["cell"],
        case=case,
        view=view,
        history=history,
        states={s["name"]: s for s in view["states"]},
        findings=shown["findings"],
        triggers=triggers,
        diagram=cases.drawn(view, case, history, language),
        deadlines=cases.deadlines(case, datetime.now(VIETNAM).date(), language),
        forms=cases.trigger_forms(view, case, detail["available_triggers"], active),
        active=active or {},
        done=done,
        exists=exists,
        said=lambda spec, value: cases.said(spec, value, language),
        rows_said=lambda spec, rows: cases.said_rows(spec, rows, language),
        typed_said=cases.typed_said(triggers[active["trigger"]], active["typed"], language)
        if active and active.get("trigger") in triggers
        else [],
    )
