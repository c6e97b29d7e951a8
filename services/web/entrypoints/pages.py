"""The pages: home, the org tree and an org, a cell, a finding, the rule pack."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, cast

from litestar import MediaType, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from services.contracts.calendar import VIETNAM
from services.web.domain import periods
from services.web.domain.periods import PARTS
from services.web.domain.table import (
    BAND_PATTERN,
    COLUMNS,
    Column,
    TableQuery,
    page_link,
    sort_link,
    sorted_as,
)
from services.web.domain.workbook import report_workbook
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


@get("/orgs", media_type=MediaType.HTML)
async def org_tree(request: Request[Any, Any, Any], person: PersonDep, caller: CallerDep) -> Any:
    """The top of the person's org tree; straight to it when it is one org."""
    tops = await caller.get("rules", "/orgs")
    if len(tops) == 1:
        return Redirect(f"/orgs/{tops[0]['org_id']}")
    return page(request, "orgs.html.jinja", person=person, tops=tops)


PeriodQuery = Annotated[
    str | None, Parameter(pattern=r"^(?:year|Q[1-4]|0[1-9]|1[0-2])$", required=False)
]
SortQuery = Annotated[
    str | None, Parameter(pattern=r"^(?:" + "|".join(COLUMNS) + ")$", required=False)
]
DirQuery = Annotated[str | None, Parameter(query="dir", pattern=r"^(?:asc|desc)$", required=False)]
BandQuery = Annotated[str | None, Parameter(pattern=BAND_PATTERN, required=False)]
TextQuery = Annotated[str | None, Parameter(max_length=64, required=False)]
OpenQuery = Annotated[str | None, Parameter(query="open", pattern=r"^1?$", required=False)]
PageQuery = Annotated[int | None, Parameter(query="page", ge=1, le=100_000, required=False)]


@get("/orgs/{org_id:str}")
async def org(
    request: Request[Any, Any, Any],
    person: PersonDep,
    caller: CallerDep,
    org_id: str,
    year: YearQuery = None,
    period: PeriodQuery = None,
    sort: SortQuery = None,
    direction: DirQuery = None,
    band: BandQuery = None,
    q: TextQuery = None,
    has_open: OpenQuery = None,
    page_number: PageQuery = None,
) -> Template:
    """An org: the tree around it, its cells (sorted and filtered as asked), their bands, the
    heat map of regular meetings, each rule's trend, and its report for a period."""
    table = TableQuery(
        sort=cast("Column", sort or "cell"),
        dir="desc" if direction == "desc" else "asc",
        band=band or None,
        text=q or "",
        open_only=has_open == "1",
        page=page_number or 1,
    )
    shown = await pages.org_page(caller, org_id, year or _this_year(), period or "year", table)
    base = {"year": str(shown["year"]), **({"period": period} if period else {})}
    return page(
        request,
        "org.html.jinja",
        person=person,
        base=base,
        sort_link=lambda column: sort_link(base, table, column),
        sorted_as=lambda column: sorted_as(table, column),
        page_link=lambda number: page_link(base, table, number),
        parts=PARTS,
        **shown,
    )


@get("/orgs/{org_id:str}/report.csv")
async def report_csv(
    caller: CallerDep, org_id: str, year: YearQuery = None, period: PeriodQuery = None
) -> Response[bytes]:
    """The report of a period as the rules API writes it in CSV, as a download."""
    chosen, part = year or _this_year(), period or "year"
    query = {"period": periods.code(chosen, part)}
    body = await caller.get_bytes("rules", f"/orgs/{org_id}/summary.csv", query)
    return _download(body, "text/csv; charset=utf-8", f"chibo-{org_id}-{query['period']}.csv")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@get("/orgs/{org_id:str}/report.xlsx")
async def report_xlsx(
    caller: CallerDep, org_id: str, year: YearQuery = None, period: PeriodQuery = None
) -> Response[bytes]:
    """The report of a period as an Excel workbook, titled with the org and the period."""
    chosen, part = year or _this_year(), period or "year"
    found, rows = await pages.report_rows(caller, org_id, chosen, part)
    body = await asyncio.to_thread(
        report_workbook,
        found["name"],
        periods.name(chosen, part, "vi"),
        periods.name(chosen, part, "en"),
        rows,
    )
    return _download(body, XLSX, f"chibo-{org_id}-{periods.code(chosen, part)}.xlsx")


def _download(body: bytes, media_type: str, filename: str) -> Response[bytes]:
    # The filename is made of an id (letters, digits, - and _) and the period: nothing to quote.
    return Response(
        body,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


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
