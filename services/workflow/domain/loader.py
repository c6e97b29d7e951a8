"""Reading a workflow definition: strict decoding, then cross-checks, every fault at file:line:col.

The same text always gives the same version (a content hash), so a case can name the exact
definition it started with and keep it while the file changes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TypeVar

import msgspec
import yaml

from services.infra.errors import Problem
from services.infra.yamlfile import at, node_at, validation_problem
from services.workflow.domain.definition import Definition
from services.workflow.domain.fields import PAYLOAD_FIELDS
from services.workflow.domain.guards import GUARDS
from services.workflow.errors import DefinitionError

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


def load_file(path: Path) -> Loaded:
    """Load the definition file at `path`; its stem must equal the definition's name."""
    loaded = load_text(path.read_text(encoding="utf-8"), str(path))
    if loaded.definition.name != path.stem:
        root = yaml.compose(loaded.source)
        assert root is not None  # it decoded, so it is not empty
        message = f"name `{loaded.definition.name}` must equal the file name `{path.stem}`"
        raise DefinitionError([at(str(path), node_at(root, "$.name"), message)])
    return loaded


def load_text(source: str, file: str) -> Loaded:
    """Load a definition from its text; `file` names it in error messages."""
    definition, root = decode(source, file, Definition)
    problems = check(definition, root, file)
    if problems:
        raise DefinitionError(sorted(problems))
    return Loaded(definition, version_of(source), source, file)


def decode(source: str, file: str, kind: type[T]) -> tuple[T, yaml.Node]:
    """Decode YAML text into `kind`, or raise DefinitionError pointing at the bad node."""
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
        if root is None:
            raise DefinitionError([Problem(file, 1, 1, "the file is empty")])
        data = yaml.safe_load(source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = Problem(file, line, column, f"invalid YAML: {exc.problem}")
        raise DefinitionError([problem]) from None
    try:
        return msgspec.convert(data, kind), root
    except msgspec.ValidationError as exc:
        raise DefinitionError([validation_problem(file, root, str(exc))]) from None


def check(d: Definition, root: yaml.Node, file: str) -> list[Problem]:
    """Cross-checks msgspec cannot make: names that must refer to states, guards and fields."""
    problems: list[Problem] = []
    states = set(d.states)

    def fault(path: str, message: str) -> None:
        problems.append(at(file, node_at(root, path), message))

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


def _unknown_guard(name: str) -> str:
    allowed = ", ".join(sorted(GUARDS))
    if "." in name:
        return f"guard `{name}` is a dotted path; only named guards are allowed: {allowed}"
    return f"unknown guard `{name}`; allowed: {allowed}"
