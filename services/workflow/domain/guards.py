"""The allow-list of guards a definition may name. Pure functions over the case and the payload.

A guard returns None to agree, or the reason it refuses, in words an inspector can act on. It
never does I/O: the case and payload it sees are everything it may judge.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from services.workflow.domain.definition import Definition
from services.workflow.domain.fields import Payload
from services.workflow.domain.model import Case


class Firing(msgspec.Struct, kw_only=True):
    """One trigger being fired: the object the shared state machine moves, fresh per request."""

    state: object
    case: Case
    payload: Payload
    definition: Definition
    refusals: list[tuple[str, str]] = []


Guard = Callable[[Firing], "str | None"]


def team_has_leader(f: Firing) -> str | None:
    """The inspection team names a leader (trưởng đoàn)."""
    team = f.payload.team or f.case.team
    return None if any(m.role == "leader" for m in team) else "the team names no leader"


def extension_within_limit(f: Firing) -> str | None:
    """The extensions so far plus this one stay within the definition's limit (a third)."""
    rules = f.definition.deadlines.inspection
    limit = rules.max_extension_days if rules else 0
    total = f.case.extension_days + (f.payload.extension_days or 0)
    if total > limit:
        return f"extensions would total {total} days; at most {limit} are allowed"
    return None


def has_shortcomings(f: Firing) -> str | None:
    """The conclusion names at least one shortcoming."""
    return None if f.payload.shortcomings else "the conclusion names no shortcomings"


def no_shortcomings(f: Firing) -> str | None:
    """The conclusion names no shortcoming, so there is nothing to remediate."""
    return "the conclusion names shortcomings" if f.payload.shortcomings else None


def remediation_due_given(f: Firing) -> str | None:
    """A conclusion with shortcomings sets the remediation due date."""
    return None if f.payload.remediation_due else "no remediation_due for the shortcomings"


def actions_due_by_remediation_due(f: Firing) -> str | None:
    """Every planned action is due on or before the conclusion's remediation due date."""
    due = f.case.remediation_due
    late = [n for n, a in enumerate(f.payload.actions or [], 1) if due and a.due > due]
    return f"actions {late} are due after the remediation due date {due}" if late else None


def progress_names_planned_actions(f: Firing) -> str | None:
    """Every progress report names an action of the current plan."""
    count = len(f.case.actions)
    unknown = [p.action for p in f.payload.progress or [] if p.action > count]
    return f"the plan has {count} actions; no action {unknown}" if unknown else None


def all_actions_complete(f: Firing) -> str | None:
    """Every action of the plan is 100 % done, counting this payload's progress."""
    percent = {a.number: a.percent for a in f.case.actions}
    percent.update({p.action: p.percent for p in f.payload.progress or []})
    open_ = sorted(n for n, p in percent.items() if p < 100)
    return f"actions {open_} are not complete" if open_ else None


GUARDS: dict[str, Guard] = {
    guard.__name__: guard
    for guard in (
        team_has_leader,
        extension_within_limit,
        has_shortcomings,
        no_shortcomings,
        remediation_due_given,
        actions_due_by_remediation_due,
        progress_names_planned_actions,
        all_actions_complete,
    )
}
"""Every guard a definition may name, by name. Nothing else is ever resolved."""
