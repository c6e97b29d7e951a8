"""What each page shows, gathered from the APIs as the signed-in person sees them; calls that
do not depend on each other are made at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from services.contracts.roles import Role
from services.web.adapters.api import Caller
from services.web.domain import charts, periods
from services.web.domain.table import TableQuery, arrange, page_of
from services.web.service.signin import Person


def home_of(person: Person) -> str:
    """Where a person's work starts: their org, their cell, the rule pack, or the org tree."""
    claims = person.claims
    if claims.has(Role.admin):
        return "/orgs"
    if claims.has(Role.secretary) and claims.cell:
        return f"/cells/{claims.cell}"
    if claims.has(Role.inspector, Role.viewer) and claims.org:
        return f"/orgs/{claims.org}"
    if claims.has(Role.rule_author):
        return "/rules"
    return "/me"


async def org_page(
    caller: Caller, org_id: str, year: int, period: str, table: TableQuery
) -> dict[str, Any]:
    """An org: its place in the tree, its cells with their year's standing, last regular
    meeting and open case (sorted, filtered and paged as `table` asks), the bands' counts, the
    heat map of regular meetings of the page's cells, the trend of each rule over `year`, and
    the report of `period` (one period of that trend).

    The whole org's cells are read to sort and filter them; what is shown of a cell beyond
    them (its months, its open case) is read for the page's cells only, unless the table is
    sorted by case."""
    by_case = table.sort == "case"
    org, cells, trend, workflow, all_cases = await asyncio.gather(
        caller.get("rules", f"/orgs/{org_id}"),
        _all_cells(caller, org_id, year),
        caller.get("rules", f"/orgs/{org_id}/trend", {"year": year}),
        caller.get("workflow", "/workflows/inspection"),
        open_cases(caller, {"org_id": org_id}) if by_case else _no_cases(),
    )
    titles = {state["name"]: state["title"] for state in workflow["states"]}
    rows = [cell | {"case": all_cases.get(cell["cell_id"])} for cell in cells]
    standings = [cell.get("score") or {} for cell in cells]
    counts = Counter(standing.get("band") for standing in standings)
    labels = {standing.get("band"): standing.get("band_label") for standing in standings}
    bands = [
        {"band": band or "not_judged", "label": labels[band], "count": counts[band]}
        for band in sorted(counts, key=lambda b: (b is None, b or ""))
    ]
    matching = arrange(rows, table)
    shown, at = page_of(matching, table)
    ids = ",".join(row["cell_id"] for row in shown)
    calendar, page_cases = await asyncio.gather(
        caller.get("rules", f"/orgs/{org_id}/calendar", {"year": year, "cells": ids})
        if shown
        else _no_calendar(),
        _no_cases() if by_case or not shown else open_cases(caller, {"cells": ids}),
    )
    cases = all_cases if by_case else page_cases
    shown = [{**row, "case": _titled(cases.get(row["cell_id"]), titles)} for row in shown]
    months = {row["cell_id"]: row["months"] for row in calendar["cells"]}
    marks = [months.get(r["cell_id"], []) for r in shown]
    return {
        "org": org,
        "cells": shown,
        "table_page": at,
        "total_cells": len(rows),
        "bands": bands,
        "report": report_of(trend, periods.code(year, period)),
        "year": year,
        "period": period,
        "table": table,
        # The drawing shows the cells of the table's page, in its order, and so does its table.
        "heat": charts.heat_map(
            [
                (r["cell_id"], r.get("name") or r["cell_id"], m)
                for r, m in zip(shown, marks, strict=True)
            ]
        ),
        "heat_counts": charts.month_counts(marks),
        "trend": trend_charts(trend),
    }


async def _no_cases() -> dict[str, dict[str, Any]]:
    return {}


async def _no_calendar() -> dict[str, Any]:
    return {"cells": []}


def _titled(case: dict[str, Any] | None, titles: dict[str, Any]) -> dict[str, Any] | None:
    return None if case is None else case | {"state_title": titles.get(case["state"])}


def report_of(trend: dict[str, Any], code: str) -> list[dict[str, Any]]:
    """The periodic report of the period `code` (`2025`, `2025-Q1`, `2025-03`), rule by rule,
    as the trend of its year gives it."""
    rows = []
    for rule in trend["rules"]:
        found = next((p for p in rule["periods"] if p["period"] == code), None)
        if found is None:
            continue
        rows.append(
            {key: rule[key] for key in ("rule_id", "title_vi", "title_en", "mode")}
            | {key: found[key] for key in ("cells_judged", "cells_violated", "compliant_percent")}
        )
    return rows


def trend_charts(trend: dict[str, Any]) -> dict[str, Any]:
    """The trend answer drawn twice, by month and by quarter, a series per rule."""
    rules = trend["rules"]
    drawn = {}
    for kind, count in (("month", 12), ("quarter", 4)):
        series = [
            (
                rule["rule_id"],
                [p["compliant_percent"] for p in rule["periods"] if p["kind"] == kind][:count],
            )
            for rule in rules
        ]
        drawn[kind] = charts.line_chart(series, count)
    return {"rules": rules, "month": drawn["month"], "quarter": drawn["quarter"]}


async def open_cases(caller: Caller, which: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each cell's newest case not in a final state, among the cases `which` names (an org's
    subtree, or some cells); the workflow API gives 200 cases a page."""
    items, _ = await caller.get_all("workflow", "/cases", {**which, "open": "true"}, limit=200)
    found: dict[str, dict[str, Any]] = {}
    for case in items:  # newest first: the first of a cell is its newest
        found.setdefault(case["cell_id"], case)
    return found


async def report_rows(
    caller: Caller, org_id: str, year: int, period: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The org and its report of `period` of `year`, for a download."""
    org, rows = await asyncio.gather(
        caller.get("rules", f"/orgs/{org_id}"),
        caller.get("rules", f"/orgs/{org_id}/summary", {"period": periods.code(year, period)}),
    )
    return org, rows


async def cell_page(caller: Caller, cell_id: str, year: int) -> dict[str, Any]:
    """A cell: its year's score and band, its open findings, and every judgment of the year."""
    cell, score, compliance, findings, cases, workflow = await asyncio.gather(
        caller.get("rules", f"/cells/{cell_id}"),
        caller.get("rules", f"/cells/{cell_id}/score", {"year": year}),
        caller.get("rules", f"/cells/{cell_id}/compliance", {"year": year}),
        caller.get("rules", "/findings", {"cell_id": cell_id, "status": "open", "limit": 200}),
        caller.get("workflow", "/cases", {"cell_id": cell_id, "limit": 50}),
        caller.get("workflow", "/workflows/inspection"),
    )
    return {
        "cell": cell,
        "cases": cases["items"],
        "states": {state["name"]: state for state in workflow["states"]},
        "score": score,
        "judgments": compliance["judgments"],
        "findings": findings["items"],
        "year": year,
    }


async def _all_cells(caller: Caller, org_id: str, year: int) -> list[dict[str, Any]]:
    query = {"org_id": org_id, "year": str(year)}
    cells, _ = await caller.get_all("rules", "/cells", query, limit=1000)
    return cells
