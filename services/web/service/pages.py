"""What each page shows, gathered from the APIs as the signed-in person sees them; calls that
do not depend on each other are made at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from services.contracts.roles import Role
from services.web.adapters.api import Caller
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


async def org_page(caller: Caller, org_id: str, year: int) -> dict[str, Any]:
    """An org: its place in the tree, its cells with their year's score, the bands' counts,
    and its periodic report for the year."""
    org, cells, scores, report = await asyncio.gather(
        caller.get("rules", f"/orgs/{org_id}"),
        _all_cells(caller, org_id),
        caller.get("rules", f"/orgs/{org_id}/scores", {"year": year}),
        caller.get("rules", f"/orgs/{org_id}/summary", {"period": str(year)}),
    )
    by_cell = {score["cell_id"]: score for score in scores}
    rows = [cell | {"score": by_cell.get(cell["cell_id"])} for cell in cells]
    counts = Counter(score["band"] for score in scores)
    labels = {score["band"]: score.get("band_label") for score in scores}
    bands = [
        {"band": band or "not_judged", "label": labels[band], "count": counts[band]}
        for band in sorted(counts, key=lambda b: (b is None, b or ""))
    ]
    return {"org": org, "cells": rows, "bands": bands, "report": report, "year": year}


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


async def _all_cells(caller: Caller, org_id: str) -> list[dict[str, Any]]:
    cells: list[dict[str, Any]] = []
    after: str | None = ""
    while after is not None:
        query: dict[str, str | int | None] = {"org_id": org_id, "after": after, "limit": 500}
        page = await caller.get("rules", "/cells", query)
        cells.extend(page["items"])
        after = page["next_after"]
    return cells
