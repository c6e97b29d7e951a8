"""HTTP API of the workflow service: thin handlers over the service layer and the read views."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.types import ControllerRouterHandler

from services.infra.auth import Role
from services.infra.auth.http import EVERYONE_BUT_SOURCES, READERS, allow
from services.infra.auth.scope import org_visible
from services.infra.params import Offset, PathId, QueryId, QueryOrg, Year
from services.workflow.adapters import queries as views
from services.workflow.domain.model import Case
from services.workflow.entrypoints.schemas import (
    CaseCreate,
    CaseDetail,
    CasePage,
    CaseSummary,
    TransitionCreate,
    Transitioned,
    WorkflowView,
)
from services.workflow.errors import CaseNotFoundError
from services.workflow.service import handlers
from services.workflow.service.caller import Caller, caller_from_token
from services.workflow.service.handlers import Service

CALLER = {"caller": Provide(caller_from_token, sync_to_thread=False)}
Limit = Annotated[int, QueryParameter(ge=1, le=views.MAX_PAGE, description="page size")]


class CaseController(Controller):
    """Cases: open, read, list, and move them through their workflow."""

    path = "/cases"
    tags = ["cases"]  # noqa: RUF012  (Litestar reads it as a class attribute)
    dependencies = CALLER
    guards = [allow(*READERS)]  # noqa: RUF012  (writes check roles per trigger, below)

    @post("/", summary="Open a case in its workflow's initial state (inspector, admin)")
    async def open(
        self, data: JSONBody[CaseCreate], caller: NamedDependency[Caller], state: State
    ) -> Case:
        """Open a case; 403 for a role that may not open cases, 404 for an unknown workflow."""
        service: Service = state.service
        return await handlers.open_case(service, data, caller)

    @get("/", summary="List cases, newest first")
    async def list(
        self,
        state: State,
        caller: NamedDependency[Caller],
        cell_id: QueryId = None,
        org_id: QueryOrg = None,
        case_state: Annotated[
            str | None, QueryParameter(name="state", pattern=r"^[a-z][a-z0-9_]{0,63}$")
        ] = None,
        overdue: FromQuery[bool | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> CasePage:
        """Cases matching every filter given; `overdue=true` for those with a passed deadline."""
        return await views.list_cases(
            state.service.pool,
            caller,
            cell_id=cell_id,
            org_id=org_id,
            state=case_state,
            overdue=overdue,
            limit=limit,
            offset=offset,
        )

    @get("/{case_id:str}", summary="A case with its history and the triggers you may fire now")
    async def detail(
        self, case_id: PathId, caller: NamedDependency[Caller], state: State
    ) -> CaseDetail:
        """The case, its audit trail and `available_triggers` for the caller's role."""
        service: Service = state.service
        return await views.case_detail(service.pool, service.registry, case_id, caller)

    @post("/{case_id:str}/transitions", summary="Fire a trigger", status_code=200)
    async def transition(
        self,
        case_id: PathId,
        data: JSONBody[TransitionCreate],
        caller: NamedDependency[Caller],
        state: State,
    ) -> Transitioned:
        """Move the case: 200 new state; 400 payload, 403 role, 409 stale version or state,
        422 refused by a guard (which, and why)."""
        return await handlers.fire(state.service, case_id, data, caller)


@get(
    "/orgs/{org_id:str}/cases/summary",
    tags=["cases"],
    dependencies=CALLER,
    guards=[allow(Role.admin, Role.inspector, Role.viewer)],
)
async def org_summary(
    org_id: PathId, year: Year, caller: NamedDependency[Caller], state: State
) -> CaseSummary:
    """An organisation's cases of `year` by state, and how many deadlines passed."""
    pool = state.service.pool
    async with pool.acquire() as conn:
        if not await org_visible(conn, "workflow", caller, org_id):
            raise CaseNotFoundError(f"no org `{org_id}` within your reach")
    return await views.summary(pool, org_id, year)


@get(
    "/workflows/{name:str}",
    tags=["workflows"],
    sync_to_thread=False,
    guards=[allow(*EVERYONE_BUT_SOURCES)],
)
def workflow_definition(name: PathId, state: State) -> WorkflowView:
    """The current version of a workflow definition, with a Mermaid state diagram."""
    workflow = state.service.registry.latest(name)
    return WorkflowView(
        name=name,
        version=workflow.version,
        definition=workflow.definition,
        mermaid=workflow.mermaid(),
    )


ROUTES: list[ControllerRouterHandler] = [CaseController, org_summary, workflow_definition]
