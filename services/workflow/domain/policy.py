"""The findings policy: which findings propose which case. Decoded strictly from policy.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec

from services.contracts.findings import Severity
from services.infra.yamlfile import at, node_at
from services.workflow.domain.definition import Name
from services.workflow.domain.loader import decode
from services.workflow.domain.model import Kind
from services.workflow.errors import CaseNotFoundError, DefinitionError
from services.workflow.service.registry import Registry

PolicyId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class Proposal(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The case a policy proposes: which workflow, what kind, in which state."""

    workflow: Name
    kind: Kind
    state: Name


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


def load_policies(path: Path, registry: Registry) -> list[Policy]:
    """Load the policy file; each proposal must name a known workflow and one of its states."""
    file = str(path)
    policies, root = decode(path.read_text(encoding="utf-8"), file, PolicyFile)
    problems = []
    for i, policy in enumerate(policies.policies):
        target = policy.propose
        try:
            states = registry.latest(target.workflow).definition.states
        except CaseNotFoundError:
            node = node_at(root, f"$.policies[{i}].propose.workflow")
            problems.append(at(file, node, f"no workflow `{target.workflow}`"))
            continue
        if target.state not in states:
            node = node_at(root, f"$.policies[{i}].propose.state")
            problems.append(at(file, node, f"`{target.state}` is not a state of {target.workflow}"))
    if problems:
        raise DefinitionError(problems)
    return policies.policies
