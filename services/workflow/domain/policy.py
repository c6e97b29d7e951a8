"""The findings policy: which findings propose which case. Decoded strictly from policy.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import msgspec

from services.contracts.findings import Severity
from services.infra.yamlfile import at, node_at
from services.workflow.domain.definition import Definition, Name
from services.workflow.domain.machine import decode
from services.workflow.domain.model import Kind
from services.workflow.errors import DefinitionError

PolicyId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class Proposal(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The case a policy proposes: which workflow, what kind, in which state.

    `withdraw` names the trigger fired (by the policy) when every finding behind a proposal
    still in `state` has resolved; `years_back` limits the years proposed to the current one
    and that many before it, so bringing in old history does not flood the annual plan.
    """

    workflow: Name
    kind: Kind
    state: Name
    withdraw: Name | None = None
    years_back: Annotated[int, msgspec.Meta(ge=0, le=100)] | None = None


class Policy(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Propose a case for a cell once it has this many open findings of these severities."""

    id: PolicyId
    title: str
    severities: Annotated[list[Severity], msgspec.Meta(min_length=1)]
    open_findings_at_least: Annotated[int, msgspec.Meta(ge=1)]
    propose: Proposal


class PolicyFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The whole policy file."""

    policies: list[Policy]


def parse_policies(text: str, file: str, definitions: Mapping[str, Definition]) -> list[Policy]:
    """The policies of a policy file's text; each proposal must name one of `definitions` (by
    name) and one of its states."""
    policies, root = decode(text, file, PolicyFile)
    problems = []
    for i, policy in enumerate(policies.policies):
        target = policy.propose
        definition = definitions.get(target.workflow)
        if definition is None:
            node = node_at(root, f"$.policies[{i}].propose.workflow")
            problems.append(at(file, node, f"no workflow `{target.workflow}`"))
            continue
        if target.state not in definition.states:
            node = node_at(root, f"$.policies[{i}].propose.state")
            problems.append(at(file, node, f"`{target.state}` is not a state of {target.workflow}"))
        if target.withdraw is not None:
            trigger = definition.triggers.get(target.withdraw)
            fires = trigger is not None and any(
                target.state in move.source and move.to not in (None, target.state)
                for move in trigger.transitions
            )
            if not fires:
                node = node_at(root, f"$.policies[{i}].propose.withdraw")
                message = f"`{target.withdraw}` is no trigger of {target.workflow} that moves"
                problems.append(at(file, node, f"{message} a case out of `{target.state}`"))
    if problems:
        raise DefinitionError(problems)
    return policies.policies
