"""A trigger's form, drawn from the fields the workflow API describes, and read back into the
payload the API takes. Pure: no request, no call.

A form names a scalar field `f.<name>`, a list's row item `f.<name>.<row>.<item>` (rows from 0)
and the findings a shortcoming cites `f.<name>.<row>.<item>` once per ticked finding, each
`rule_id|scope` of the case's cell. What the person typed is kept as typed, so a refused form
is shown again with every value in place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.contracts.wording import Words, number

ROW = re.compile(r"[0-9]{1,3}")  # a row number as the form writes it (lists hold at most 100)
Spec = Mapping[str, Any]  # one field as `GET /workflows/{name}` describes it
Typed = dict[str, list[str]]  # form key -> the values typed under it

REQUIRED = Words("Cần nhập mục này.", "This is required.")
NOT_A_DATE = Words("Ngày không hợp lệ (dd/mm/yyyy).", "Not a valid date (dd/mm/yyyy).")
NOT_A_NUMBER = Words("Cần một số nguyên.", "A whole number is needed.")
NOT_A_CHOICE = Words("Hãy chọn một giá trị trong danh sách.", "Choose one of the list.")
ROWS_NEEDED = Words("Cần ít nhất {n} dòng.", "At least {n} rows are needed.")


def too_long(limit: int) -> Words:
    """Text over `limit` characters."""
    vi, en = number(limit, "vi"), number(limit, "en")
    return Words(f"Dài quá {vi} ký tự.", f"Longer than {en} characters.")


def out_of_bounds(low: int | None, high: int | None) -> Words:
    """A number outside [low, high]."""
    lo_vi, lo_en = number(low or 0, "vi"), number(low or 0, "en")
    if high is None:
        return Words(f"Cần một số từ {lo_vi} trở lên.", f"A number of {lo_en} or more is needed.")
    hi_vi, hi_en = number(high, "vi"), number(high, "en")
    return Words(
        f"Cần một số từ {lo_vi} đến {hi_vi}.", f"A number from {lo_en} to {hi_en} is needed."
    )


@dataclass
class Reading:
    """A form read back: the payload, and the fault of each key that was wrong."""

    payload: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, Words] = field(default_factory=dict)


def key(*parts: str | int) -> str:
    """The form key of a field, a row's item, ..."""
    return ".".join(["f", *map(str, parts)])


def read(fields: Sequence[Spec], typed: Mapping[str, Sequence[str]], cell_id: str) -> Reading:
    """The payload `typed` into the form of `fields`; a blank optional field is left out, a
    list's blank rows are skipped."""
    reading = Reading()
    for spec in fields:
        name = spec["name"]
        value = _read(spec, (name,), typed, cell_id, reading)
        if value is None:
            if spec["required"] and key(name) not in reading.errors:
                reading.errors[key(name)] = REQUIRED
            continue
        reading.payload[name] = value
    return reading


def _read(
    spec: Spec,
    path: tuple[str | int, ...],
    typed: Mapping[str, Sequence[str]],
    cell: str,
    r: Reading,
) -> Any:
    at = key(*path)
    kind = spec["type"]
    if kind == "list":
        return _read_list(spec, path, typed, cell, r)
    if kind == "findings":
        picked = [v.partition("|") for v in typed.get(at, ()) if "|" in v]
        return [{"rule_id": a, "cell_id": cell, "scope": b} for a, _, b in picked] or None
    text = (typed.get(at) or [""])[0].strip()
    if not text:
        return None
    if kind in ("text", "long_text"):
        limit = spec.get("max_length")
        if limit is not None and len(text) > limit:
            r.errors[at] = too_long(limit)
        return text
    if kind == "date":
        found = parse_date(text)
        if found is None:
            r.errors[at] = NOT_A_DATE
            return text
        return found.isoformat()
    if kind == "integer":
        if not re.fullmatch(r"[+-]?\d{1,12}", text):
            r.errors[at] = NOT_A_NUMBER
            return text
        number = int(text)
        low, high = spec.get("minimum"), spec.get("maximum")
        if (low is not None and number < low) or (high is not None and number > high):
            r.errors[at] = out_of_bounds(low, high)
        return number
    if kind == "choice":
        if text not in {c["value"] for c in spec["choices"]}:
            r.errors[at] = NOT_A_CHOICE
        return text
    raise ValueError(f"a field of type {kind!r} has no input")


def _read_list(
    spec: Spec,
    path: tuple[str | int, ...],
    typed: Mapping[str, Sequence[str]],
    cell: str,
    r: Reading,
) -> list[dict[str, Any]] | None:
    rows: list[dict[str, Any]] = []
    for row_number in range(rows_typed(spec, path, typed)):
        here = (*path, row_number)
        written = [
            item
            for item in spec["items"]
            if item["type"] not in ("choice", "findings")
            and (typed.get(key(*here, item["name"])) or [""])[0].strip()
        ]
        if not written:
            continue  # a blank row
        row: dict[str, Any] = {}
        for item in spec["items"]:
            value = _read(item, (*here, item["name"]), typed, cell, r)
            if value is None:
                if item["required"]:
                    r.errors.setdefault(key(*here, item["name"]), REQUIRED)
                continue
            row[item["name"]] = value
        rows.append(row)
    at = key(*path)
    low = spec.get("min_items")
    if rows and low is not None and len(rows) < low:
        r.errors[at] = Words(
            ROWS_NEEDED.vi.format(n=number(low, "vi")), ROWS_NEEDED.en.format(n=number(low, "en"))
        )
    return rows or None


def rows_typed(spec: Spec, path: tuple[str | int, ...], typed: Mapping[str, Sequence[str]]) -> int:
    """How many rows of list `path` the form holds (the highest row number typed, plus one)."""
    prefix = key(*path) + "."
    numbers = [
        int(row)
        for k in typed
        if k.startswith(prefix) and ROW.fullmatch(row := k[len(prefix) :].split(".", 1)[0])
    ]
    return min(max(numbers, default=-1) + 1, spec.get("max_items") or 100)


def parse_date(text: str) -> date | None:
    """A date as a date input sends it (yyyy-mm-dd) or as a person writes it (dd/mm/yyyy)."""
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def api_key(field_path: str) -> str:
    """The form key of a field as the API names it in a problem: `payload.team[0].name` is
    `f.team.0.name`; `comment` stays itself."""
    if not field_path.startswith("payload"):
        return field_path
    parts = re.findall(r"\[(\d+)\]|\.(\w+)", field_path.removeprefix("payload"))
    return key(*[index or name for index, name in parts]) if parts else "payload"


def typed_of(form: Mapping[str, Any]) -> Typed:
    """A submitted form (a multi-dict or a plain mapping) as key -> values."""
    getall = getattr(form, "getall", None)
    out: Typed = {}
    for name in form:
        values = getall(name) if getall else form[name]
        out[name] = [str(v) for v in (values if isinstance(values, list) else [values])]
    return out


def prefill(fields: Sequence[Spec], case: Mapping[str, Any]) -> Typed:
    """What a form starts with: the case's current plan for a new plan, one progress row per
    planned action, the team so far for a start."""
    typed: Typed = {}
    actions = case.get("actions") or []
    for spec in fields:
        name = spec["name"]
        if name == "progress":
            for i, action in enumerate(actions):
                typed[key(name, i, "action")] = [str(action["number"])]
                typed[key(name, i, "percent")] = [str(action.get("percent", 0))]
                typed[key(name, i, "note")] = [action.get("note", "")]
        elif name == "actions":
            for i, action in enumerate(actions):
                for item in ("text", "owner", "due"):
                    typed[key(name, i, item)] = [str(action.get(item, ""))]
        elif name == "team":
            for i, member in enumerate(case.get("team") or []):
                typed[key(name, i, "name")] = [member["name"]]
                typed[key(name, i, "role")] = [member.get("role", "member")]
    return typed
