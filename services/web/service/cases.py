"""The cases as people work them: a board of the subtree's cases by state, one case with its
timeline, deadlines and diagram, and the forms of the triggers the person may fire now — all
gathered from the workflow API (and the rules API for the cell's name) as the person sees them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from services.contracts import wording
from services.contracts.wording import Language, Words
from services.contracts.wording import number as formatted
from services.web.adapters.api import Caller
from services.web.domain import diagram, forms
from services.web.domain.words import label

BOARD_PAGES = 5  # of 200 cases each: a board shows at most 1,000 cases
NAMES_AT_ONCE = 200  # cells named in one call of the rules API (its `cells` parameter's limit)
WORKFLOW = "inspection"


async def workflow_view(caller: Caller, name: str = WORKFLOW, version: str | None = None) -> Any:
    """A workflow as the API describes it: its current version, or the one a case runs."""
    path = f"/workflows/{name}" + (f"/versions/{version}" if version else "")
    return await caller.get("workflow", path)


async def board(caller: Caller, filters: Mapping[str, str | int | None]) -> dict[str, Any]:
    """The cases the person reaches that match `filters`, grouped by state in the order the
    workflow lists its states; `total` may exceed the cases shown."""
    view, (cases, total) = await asyncio.gather(workflow_view(caller), _cases(caller, filters))
    names = await cell_names(caller, {case["cell_id"] for case in cases})
    by_state: dict[str, list[Any]] = {s["name"]: [] for s in view["states"]}
    for case in cases:
        named = case | {"cell_name": names.get(case["cell_id"])}
        by_state.setdefault(case["state"], []).append(named)
    columns = [
        {"state": s, "cases": by_state[s["name"]]} for s in view["states"] if by_state[s["name"]]
    ]
    return {"view": view, "columns": columns, "shown": len(cases), "total": total}


async def _cases(caller: Caller, filters: Mapping[str, str | int | None]) -> tuple[list[Any], int]:
    found, total = await caller.get_all(
        "workflow", "/cases", filters, limit=200, max_pages=BOARD_PAGES
    )
    return found, total or len(found)


async def cell_names(caller: Caller, cell_ids: Collection[str]) -> dict[str, str]:
    """The names of the cells among `cell_ids` that the person reaches, by id."""
    ids = sorted(cell_ids)
    chunks = [ids[i : i + NAMES_AT_ONCE] for i in range(0, len(ids), NAMES_AT_ONCE)]
    pages = await asyncio.gather(
        *(
            caller.get("rules", "/cells", {"cells": ",".join(chunk), "limit": NAMES_AT_ONCE})
            for chunk in chunks
        )
    )
    return {cell["cell_id"]: cell["name"] for page in pages for cell in page["items"]}


async def open_findings(caller: Caller, cell_id: str) -> list[Any]:
    """Every open finding of the cell (the finding itself, without its record's id)."""
    query = {"cell_id": cell_id, "status": "open"}
    items, _ = await caller.get_all("rules", "/findings", query, limit=200)
    return [item["finding"] for item in items]


async def case_page(caller: Caller, case_id: str) -> dict[str, Any]:
    """A case, its audit trail, the definition it runs, and its cell."""
    detail = await caller.get("workflow", f"/cases/{case_id}")
    case = detail["case"]
    view, cell, found = await asyncio.gather(
        workflow_view(caller, case["definition"], case["definition_version"]),
        caller.get("rules", f"/cells/{case['cell_id']}"),
        caller.get("rules", "/findings", {"cell_id": case["cell_id"], "limit": 200}),
    )
    findings = {(f["finding"]["rule_id"], f["finding"]["scope"]): f for f in found["items"]}
    return {"detail": detail, "case": case, "view": view, "cell": cell, "findings": findings}


def drawn(
    view: Mapping[str, Any], case: Mapping[str, Any], history: list[Any], language: Language
) -> diagram.Diagram:
    """The workflow of `view` laid out with the case's state marked and its past shaded."""
    states = [(s["name"], s["title"][language], s["final"]) for s in view["states"]]
    moves = [
        (t["title"][language], move["source"], move["to"])
        for t in view["triggers"]
        for move in t["moves"]
    ]
    visited = [entry["to_state"] for entry in history]
    return diagram.layout(states, moves, case["state"], visited)


def deadlines(case: Mapping[str, Any], today: date, language: Language) -> list[dict[str, Any]]:
    """The case's deadlines with the days left, or how many days they are overdue."""
    found = []
    for kind, due_field, late_field in (
        ("inspection", "inspection_due", "inspection_overdue"),
        ("remediation", "remediation_due", "remediation_overdue"),
    ):
        due = case.get(due_field)
        if not due:
            continue
        left = (date.fromisoformat(due) - today).days
        running = case.get("deadline_kind") == kind
        found.append(
            {
                "kind": kind,
                "due": due,
                "running": running,
                "overdue": bool(case.get(late_field)) or (running and left < 0),
                "left": _days_left(left, language) if running else None,
            }
        )
    return found


def _days_left(left: int, language: Language) -> str:
    count = formatted(abs(left), language)
    if left > 0:
        return Words(f"còn {count} ngày", f"{count} days left")(language)
    if left == 0:
        return Words("hết hạn hôm nay", "due today")(language)
    return Words(f"quá hạn {count} ngày", f"{count} days overdue")(language)


def said(spec: Mapping[str, Any] | None, value: Any, language: Language) -> str:
    """A payload value in words, as the audit trail keeps it: dates as dates, choices by their
    names, each row of a list numbered."""
    if spec is None:
        return str(value)
    kind = spec["type"]
    if value is None:
        return ""
    if kind == "date":
        return wording.day(date.fromisoformat(str(value)), language)
    if kind == "choice":
        names = {c["value"]: c["title"][language] for c in spec.get("choices", [])}
        return str(names.get(str(value), value))
    if kind == "integer":
        return formatted(value, language)
    if kind == "findings":
        return "; ".join(f"{ref['rule_id']} · {ref['scope']}" for ref in value)
    if kind == "list":
        return "\n".join(said_rows(spec, value, language))
    return str(value)


def said_rows(spec: Mapping[str, Any], rows: list[Any], language: Language) -> list[str]:
    """Each row of a list value in words, its items in the order the form asks for them."""
    said_as = []
    for row in rows:
        parts = [
            wording.sentence(item["title"][language])
            + ": "
            + said(item, row[item["name"]], language)
            for item in spec["items"]
            if row.get(item["name"]) not in ("", [], None)
        ]
        said_as.append("; ".join(parts))
    return said_as


def typed_said(
    trigger: Mapping[str, Any], typed: forms.Typed, language: Language
) -> list[tuple[str, str]]:
    """What the person typed into a trigger's form, as (label, value), for them to copy when
    the form can no longer be sent; choices left as they came and blank inputs are left out."""
    by_name = {spec["name"]: spec for spec in trigger["fields"]}
    shown = []
    for key, values in typed.items():
        text = ", ".join(v for v in values if v.strip())
        parts = key.split(".")
        if not text or len(parts) < 2 or parts[0] != "f" or parts[1] not in by_name:
            if key == "comment" and text:
                shown.append((label("comment", language), text))
            continue
        spec = by_name[parts[1]]
        name = wording.sentence(spec["title"][language])
        if len(parts) == 4 and forms.ROW.fullmatch(parts[2]):  # a row's item
            item = next((i for i in spec["items"] if i["name"] == parts[3]), None)
            if item is None or item["type"] == "choice":
                continue
            name += f" {int(parts[2]) + 1} · {item['title'][language]}"
        shown.append((name, text))
    return shown


def trigger_forms(
    view: Mapping[str, Any],
    case: Mapping[str, Any],
    available: list[str],
    active: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The form of each trigger the person may fire now: its fields, what they start with (or
    what the person typed, for the one just refused) and the faults to show beside them."""
    by_name = {t["name"]: t for t in view["triggers"]}
    shown = []
    for name in available:
        trigger = by_name[name]
        mine = active is not None and active.get("trigger") == name
        typed = active["typed"] if mine and active else forms.prefill(trigger["fields"], case)
        extra = active.get("more", {}) if mine and active else {}
        shown.append(
            {
                "trigger": trigger,
                "typed": typed,
                "rows": {
                    f["name"]: _rows(f, typed, extra.get(f["name"], 0))
                    for f in trigger["fields"]
                    if f["type"] == "list"
                },
                "errors": active.get("errors", {}) if mine and active else {},
                "refusals": active.get("refusals", []) if mine and active else [],
                "comment": (typed.get("comment") or [""])[0],
                "open": mine,
            }
        )
    return shown


def _rows(spec: Mapping[str, Any], typed: forms.Typed, extra: int) -> int:
    start = 3 if spec["name"] in ("team", "actions") else 1
    rows = max(forms.rows_typed(spec, (spec["name"],), typed), start) + extra
    return min(rows, spec.get("max_items") or 100)
