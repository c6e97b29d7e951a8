"""HTTP API of the workflow service: thin handlers over the service layer."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from services.contracts.roles import Role
from services.infra.auth.http import EVERYONE_BUT_SOURCES, READERS, allow
from services.infra.params import (
    Offset,
    PathId,
    QueryId,
    QueryIds,
    QueryOrg,
    QueryYear,
    Year,
    id_list,
    strict,
)
from services.infra.problems import problem_responses
from services.workflow.adapters.queries import MAX_PAGE, CaseFilter, CasePage, CaseSummary
from services.workflow.domain import forms
from services.workflow.domain.commands import FireTrigger, OpenCase
from services.workflow.domain.machine import Workflow
from services.workflow.domain.model import Case
from services.workflow.entrypoints.deps import CallerDep, ServiceDep
from services.workflow.entrypoints.schemas import WorkflowView
from services.workflow.service import handlers
from services.workflow.service.handlers import CaseDetail, Transitioned

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="page size")]


class CaseController(Controller):
    """Cases: open, read, list, and move them through their workflow."""

    path = "/cases"
    tags = ["cases"]  # noqa: RUF012  (Litestar reads it as a class attribute)
    guards = [allow(*READERS)]  # noqa: RUF012  (writes check roles per trigger, below)

    @post(
        "/",
        summary="Open a case in its workflow's initial state (inspector, admin)",
        responses=problem_responses(404, 409, 422),
    )
    async def open(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[OpenCase],
        service: ServiceDep,
        caller: CallerDep,
    ) -> Case:
        """Open a case; 403 for a role that may not open cases, 404 for an unknown workflow,
        422 for a cell or org not registered, 409 if one is open for the cell, kind and year."""
        return await handlers.open_case(service, await strict(request, data), caller)

    @get("/", summary="List cases, newest first")
    async def list(
        self,
        service: ServiceDep,
        caller: CallerDep,
        cell_id: QueryId = None,
        cells: QueryIds = None,
        org_id: QueryOrg = None,
        case_state: Annotated[
            str | None, QueryParameter(name="state", pattern=r"^[a-z][a-z0-9_]{0,63}$")
        ] = None,
        year: QueryYear = None,
        overdue: FromQuery[bool | None] = None,
        is_open: Annotated[bool | None, QueryParameter(name="open")] = None,
        mine: FromQuery[bool] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> CasePage:
        """Cases matching every filter given: `cells` for those of any of these cells,
        `org_id` for the cases of that org and every org below it, `overdue=true` for those
        with a passed deadline, `open=true` for those not in a final state, `mine=true` for
        those the caller opened or accepted into the plan or whose team names the caller's
        subject."""
        filters = CaseFilter(
            cell_id=cell_id,
            cells=id_list(cells),
            org_id=org_id,
            state=case_state,
            year=year,
            overdue=overdue,
            open=is_open,
            mine=caller.actor if mine else None,
            limit=limit,
            offset=offset,
        )
        return await handlers.list_cases(service, caller, filters)

    @get("/{case_id:str}", summary="A case with its history and the triggers you may fire now")
    async def detail(self, case_id: PathId, service: ServiceDep, caller: CallerDep) -> CaseDetail:
        """The case, its audit trail and `available_triggers` for the caller's role."""
        return await handlers.case_detail(service, case_id, caller)

    @post(
        "/{case_id:str}/transitions",
        summary="Fire a trigger",
        status_code=200,
        responses=problem_responses(409, 422),
    )
    async def transition(
        self,
        request: Request[Any, Any, Any],
        case_id: PathId,
        data: JSONBody[FireTrigger],
        service: ServiceDep,
        caller: CallerDep,
    ) -> Transitioned:
        """Move the case: 200 new state; 400 payload, 403 role, 409 stale version or state,
        422 refused by a guard (which, and why)."""
        return await handlers.fire(service, case_id, await strict(request, data), caller)


@get(
    "/orgs/{org_id:str}/cases/summary",
    tags=["cases"],
    guards=[allow(Role.admin, Role.inspector, Role.viewer)],
)
async def org_summary(
    org_id: PathId, year: Year, service: ServiceDep, caller: CallerDep
) -> CaseSummary:
    """An organisation's cases of `year` by state, and how many deadlines passed."""
    return await handlers.org_summary(service, caller, org_id, year)


@get(
    "/workflows/{name:str}",
    tags=["workflows"],
    sync_to_thread=False,
    guards=[allow(*EVERYONE_BUT_SOURCES)],
)
def workflow_definition(name: PathId, service: ServiceDep) -> WorkflowView:
    """The current version of a workflow definition, with a Mermaid state diagram and each
    trigger's form: its fields' types, whether each is required, and their labels."""
    return workflow_view(service.registry.latest(name))


@get(
    "/workflows/{name:str}/versions/{version:str}",
    tags=["workflows"],
    guards=[allow(*EVERYONE_BUT_SOURCES)],
)
async def workflow_version(name: PathId, version: PathId, service: ServiceDep) -> WorkflowView:
    """A version of a workflow definition some case started with (its `definition_version`),
    described like the current one; 404 for a version no case ever ran."""
    async with service.pool.acquire() as conn:
        return workflow_view(await service.registry.get(conn, name, version))


def workflow_view(workflow: Workflow) -> WorkflowView:
    """A compiled workflow as the API describes it."""
    d = workflow.definition
    return WorkflowView(
        name=d.name,
        version=workflow.version,
        title=d.title,
        definition=d,
        mermaid=workflow.mermaid(),
        states=forms.states(d),
        triggers=forms.triggers(d),
    )


ROUTES: list[ControllerRouterHandler] = [
    CaseController,
    org_summary,
    workflow_definition,
    workflow_version,
]
