"""A definition version compiled: its text loaded and cross-checked (every fault at
file:line:col), then one shared `transitions.Machine`, fired on a fresh object per request.

The same text always gives the same version (a content hash), so a case can name the exact
definition it started with and keep it while the file changes. The machine holds no model
(`model=None`): adding every case as a model would be slow and leak. A request builds a
`Firing` (case, payload, state), fires the trigger's event on it and reads the new state. The
database's version column, not the machine, guards concurrent changes.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from functools import partial
from typing import Any, TypeVar, cast

import msgspec
import yaml
from transitions import EventData, Machine

from services.contracts.roles import CASE_ROLES, Role
from services.infra import yamlfile
from services.infra.errors import FileProblemsError, Problem
from services.workflow.domain.definition import Definition, Trigger
from services.workflow.domain.fields import PAYLOAD_FIELDS, Payload
from services.workflow.domain.forms import LABEL_KEYS
from services.workflow.domain.guards import GUARDS, Firing
from services.workflow.domain.model import Case
from services.workflow.errors import (
    DefinitionError,
    GuardRefusedError,
    NotFromStateError,
    UnknownTriggerError,
)

RESERVED_TRIGGERS = frozenset({"open", "overdue"})  # events the service itself publishes
T = TypeVar("T")


class Loaded(msgspec.Struct, frozen=True):
    """A definition with the text it came from and that text's version."""

    definition: Definition
    version: str
    source: str
    file: str


def version_of(source: str) -> str:
    """The version of a definition text: the start of its SHA-256."""
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def parse_definition(
    source: str, file: str, stem: str | None = None, *, stored: bool = False
) -> Loaded:
    """Load a definition from its text; `file` names it in error messages, and `stem`, if
    given, is the file name the definition's `name` must equal. A `stored` version was accepted
    when its case started: a duplicate key, refused in files since, is not refused in it, so
    that its cases can still be read and moved."""
    definition, root = decode(source, file, Definition, duplicate_keys=stored)
    problems = check(definition, root, file)
    if stem is not None and definition.name != stem:
        message = f"name `{definition.name}` must equal the file name `{stem}`"
        problems.append(yamlfile.at(file, yamlfile.node_at(root, "$.name"), message))
    if problems:
        raise DefinitionError(sorted(problems))
    return Loaded(definition, version_of(source), source, file)


def decode(
    source: str, file: str, kind: type[T], *, duplicate_keys: bool = False
) -> tuple[T, yaml.Node]:
    """Decode YAML text into `kind`, or raise DefinitionError pointing at the bad node (a
    duplicate key included, unless `duplicate_keys`)."""
    try:
        return yamlfile.load(source, file, kind, duplicate_keys=duplicate_keys)
    except FileProblemsError as exc:
        raise DefinitionError(exc.problems) from None


def check(d: Definition, root: yaml.Node, file: str) -> list[Problem]:
    """Cross-checks msgspec cannot make: names that must refer to states, guards and fields."""
    problems: list[Problem] = []
    states = set(d.states)

    def fault(path: str, message: str) -> None:
        problems.append(yamlfile.at(file, yamlfile.node_at(root, path), message))

    def known(names: list[str], path: str) -> None:
        for i, name in enumerate(names):
            if name not in states:
                fault(f"{path}[{i}]", f"`{name}` is not one of the states")

    if len(states) != len(d.states):
        fault("$.states", "a state is listed twice")
    known([d.initial], "$.initial")
    known(d.final, "$.final")
    for name, trigger in d.triggers.items():
        base = f"$.triggers.{name}"
        for r, role in enumerate(trigger.roles):
            if role not in CASE_ROLES:
                fault(f"{base}.roles[{r}]", _not_a_case_role(role))
        if name in RESERVED_TRIGGERS:
            fault(base, f"`{name}` is reserved for events the service publishes itself")
        for field in trigger.payload:
            if field not in PAYLOAD_FIELDS:
                known_fields = ", ".join(sorted(PAYLOAD_FIELDS))
                fault(f"{base}.payload.{field}", f"unknown payload field `{field}`: {known_fields}")
        for m, move in enumerate(trigger.transitions):
            known(move.source, f"{base}.transitions[{m}].from")
            if move.to is not None:
                known([move.to], f"{base}.transitions[{m}].to")
            for g, guard in enumerate(move.guards):
                if guard not in GUARDS:
                    fault(f"{base}.transitions[{m}].guards[{g}]", _unknown_guard(guard))
    for state in d.labels.states:
        if state not in states:
            fault(f"$.labels.states.{state}", f"`{state}` is not one of the states")
    for key in d.labels.fields:
        if key not in LABEL_KEYS:
            fault(f"$.labels.fields.{key}", f"no payload field `{key}` to label")
    if d.deadlines.inspection:
        rule = d.deadlines.inspection
        known(rule.while_in, "$.deadlines.inspection.while_in")
        if rule.max_extension_days * 3 > rule.days:
            fault(
                "$.deadlines.inspection.max_extension_days",
                f"an extension may add at most a third of {rule.days} days",
            )
    if d.deadlines.remediation:
        known(d.deadlines.remediation.while_in, "$.deadlines.remediation.while_in")
    return problems


def _not_a_case_role(role: Role) -> str:
    allowed = ", ".join(CASE_ROLES)
    return f"a {role} does not move cases; a trigger's roles are among {allowed}"


def _unknown_guard(name: str) -> str:
    allowed = ", ".join(sorted(GUARDS))
    if "." in name:
        return f"guard `{name}` is a dotted path; only named guards are allowed: {allowed}"
    return f"unknown guard `{name}`; allowed: {allowed}"


def _check(name: str, event: EventData) -> bool:
    firing = cast(Firing, event.model)
    reason = GUARDS[name](firing)
    if reason is not None:
        firing.refusals.append((name, reason))
    return reason is None


class Workflow:
    """A compiled definition version: its states as a StrEnum and its shared machine."""

    def __init__(self, loaded: Loaded) -> None:
        self.definition: Definition = loaded.definition
        self.version = loaded.version
        self.source, self.file = loaded.source, loaded.file
        d = self.definition
        self.states: type[enum.StrEnum] = enum.StrEnum(  # type: ignore[misc]
            f"{d.name.title()}State", [(s, s) for s in d.states]
        )
        table: list[dict[str, Any]] = []
        for trigger_name, trigger in d.triggers.items():
            for move in trigger.transitions:
                for source in move.source:
                    table.append(
                        {
                            "trigger": trigger_name,
                            "source": self.states(source),
                            "dest": self.states(move.to or source),
                            "conditions": [partial(_check, g) for g in move.guards],
                        }
                    )
        self.machine = Machine(
            model=None,
            states=list(self.states),
            initial=self.states(d.initial),
            transitions=table,
            auto_transitions=False,
            send_event=True,
        )

    def trigger(self, name: str) -> Trigger:
        """The trigger called `name`, or UnknownTriggerError naming those that exist."""
        found = self.definition.triggers.get(name)
        if found is None:
            known = ", ".join(self.definition.triggers)
            raise UnknownTriggerError(f"no trigger `{name}` in `{self.definition.name}`: {known}")
        return found

    def sources(self, name: str) -> list[str]:
        """The states trigger `name` fires from."""
        return [s for move in self.trigger(name).transitions for s in move.source]

    def available(self, state: str, roles: Iterable[Role]) -> list[str]:
        """The triggers any of `roles` may fire from `state` (guards aside: they need payloads)."""
        held = set(roles)
        return [
            name
            for name, trigger in self.definition.triggers.items()
            if held.intersection(trigger.roles) and state in self.sources(name)
        ]

    def fire(self, case: Case, name: str, payload: Payload) -> str:
        """Fire trigger `name` on `case` and return the state it moves to; the case is untouched.

        Raises NotFromStateError when the trigger does not fire from the case's state, and
        GuardRefusedError, naming every guard that refused and why, when no transition is taken.
        """
        if case.state not in self.sources(name):
            raise NotFromStateError(
                f"`{name}` fires from {', '.join(self.sources(name))}; the case is `{case.state}`",
            )
        firing = Firing(
            state=self.states(case.state), case=case, payload=payload, definition=self.definition
        )
        if not self.machine.events[name].trigger(firing):
            refusals = [{"guard": g, "reason": r} for g, r in firing.refusals]
            reasons = "; ".join(f"{g}: {r}" for g, r in firing.refusals)
            raise GuardRefusedError(f"`{name}` refused by guards: {reasons}", refusals)
        return str(firing.state)

    def mermaid(self) -> str:
        """The definition as a Mermaid state diagram."""
        d = self.definition
        lines = ["stateDiagram-v2", f"    [*] --> {d.initial}"]
        for name, trigger in d.triggers.items():
            for move in trigger.transitions:
                guards = f" [{', '.join(move.guards)}]" if move.guards else ""
                for source in move.source:
                    lines.append(f"    {source} --> {move.to or source}: {name}{guards}")
        lines += [f"    {state} --> [*]" for state in d.final]
        return "\n".join(lines) + "\n"
