"""What a case's transition announces on `chibo.workflow.case.<trigger>`, through the outbox."""

from __future__ import annotations

import msgspec

from services.contracts.subjects import case_subject
from services.contracts.workflow import CaseTransitioned
from services.workflow.adapters.repository import AuditEntry
from services.workflow.domain.model import Case


def transition_message(case: Case, entry: AuditEntry) -> tuple[str, str, bytes]:
    """The outbox message of a transition: subject, deterministic message id, body."""
    body = CaseTransitioned(
        case_id=case.id,
        cell_id=case.cell_id,
        org_id=case.org_id,
        kind=case.kind,
        year=case.year,
        definition=case.definition,
        definition_version=case.definition_version,
        trigger=entry.trigger,
        from_state=entry.from_state,
        to_state=entry.to_state,
        version=entry.version,
        actor=entry.actor,
        role=entry.role,
        at=entry.at,
        comment=entry.comment,
        payload=entry.payload,
    )
    return case_subject(entry.trigger), f"case-{case.id}-v{case.version}", msgspec.json.encode(body)
