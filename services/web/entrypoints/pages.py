"""The pages: home, the org tree and an org, a cell, a finding, the rule pack."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from services.contracts.calendar import VIETNAM
from services.web.entrypoints.deps import CallerDep, PersonDep
from services.web.entrypoints.render import page
from services.web.errors import ApiError
from services.web.service import pages

YearQuery = Annotated[int | None, Parameter(ge=1900, le=2100, required=False)]


def _this_year() -> int:
    return datetime.now(VIETNAM).year


@get("/", name="home")
async def home(person: PersonDep) -> Redirect:
    """Where the person's work starts."""
    return Redirect(pages.home_of(person))


@get("/me")
async def me(request: Request[Any, Any, Any], person: PersonDep) -> Template:
    """Who is signed in, for a role whose work has no page of its own (a source system)."""
    return page(request, "me.html.jinja", person=person)


@get("/orgs")
async def org_tree(request: Request[Any, Any, Any], person: PersonDep, caller: CallerDep) -> Any:
    """The top of the person's org tree; straight to it when it is one org."""
    tops = await caller.get("rules", "/orgs")
    if len(tops) == 1:
        return Redirect(f"/orgs/{tops[0]['org_id']}")
    return page(request, "orgs.html.jinja", person=person, tops=tops)


@get("/orgs/{org_id:str}")
async def org(
    request: Request[Any, Any, Any],
    person: PersonDep,
    caller: CallerDep,
    org_id: str,
    year: YearQuery = None,
) -> Template:
    """An org: the tree around it, its cells, their bands, its report for the year."""
    shown = await pages.org_page(caller, org_id, year or _this_year())
    return page(request, "org.html.jinja", person=person, **shown)


@get("/cells/{cell_id:str}")
async def cell(
    request: Request[Any, Any, Any],
    person: PersonDep,
    caller: CallerDep,
    cell_id: str,
    year: YearQuery = None,
) -> Template:
    """A cell: who it is, its year's score, its open findings, its compliance calendar."""
    shown = await pages.cell_page(caller, cell_id, year or _this_year())
    return page(request, "cell.html.jinja", person=person, **shown)


@get("/findings/{finding_id:int}")
async def finding(
    request: Request[Any, Any, Any], person: PersonDep, caller: CallerDep, finding_id: int
) -> Template:
    """A finding, explained: the rule, its regulation, what was required and found, and the
    meetings behind it."""
    detail = await caller.get("rules", f"/findings/{finding_id}")
    return page(request, "finding.html.jinja", person=person, detail=detail)


@get("/rules")
async def rule_pack(
    request: Request[Any, Any, Any], person: PersonDep, caller: CallerDep
) -> Template:
    """The rule pack in force, and the button that reloads it."""
    pack = await caller.get("rules", "/rules")
    return page(request, "rules.html.jinja", person=person, pack=pack, outcome=None, refusal=None)


@post("/rules/reload", status_code=200)
async def reload_rules(
    request: Request[Any, Any, Any], person: PersonDep, caller: CallerDep
) -> Template:
    """Reload the pack and show what it did: its impact, or why it was refused."""
    outcome, refusal = None, None
    try:
        outcome = await caller.post("rules", "/rules/reload")
    except ApiError as exc:
        if exc.status_code != 422:
            raise
        refusal = {"detail": exc.problem.get("detail", ""), "errors": exc.errors}
    pack = await caller.get("rules", "/rules")
    return page(
        request, "rules.html.jinja", person=person, pack=pack, outcome=outcome, refusal=refusal
    )
