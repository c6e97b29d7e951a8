"""What the workflow API answers beyond the service layer's own types: a definition, drawn."""

from __future__ import annotations

import msgspec

from services.workflow.domain.definition import Definition


class WorkflowView(msgspec.Struct, frozen=True, kw_only=True):
    """A workflow definition's current version, as data and as a Mermaid diagram."""

    name: str
    version: str
    definition: Definition
    mermaid: str
