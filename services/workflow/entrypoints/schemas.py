"""What the workflow API answers beyond the service layer's own types: a definition, drawn."""

from __future__ import annotations

import msgspec

from services.workflow.domain.definition import Definition
from services.workflow.domain.forms import StateSpec, TriggerSpec


class WorkflowView(msgspec.Struct, frozen=True, kw_only=True):
    """A workflow definition's current version: as written, as a Mermaid diagram, and as forms
    — every state and trigger with its words, and each trigger's payload fields with their
    type, whether required, bounds and labels."""

    name: str
    version: str
    title: str
    definition: Definition
    mermaid: str
    states: list[StateSpec]
    triggers: list[TriggerSpec]
