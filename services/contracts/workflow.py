"""What the workflow service publishes on `chibo.workflow.case.*`, for any consumer to decode.

New fields get defaults; existing field types never change (msgspec's schema-evolution rule).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec


class CaseTransitioned(msgspec.Struct, frozen=True, kw_only=True):
    """A case moved (or was opened, trigger `open`); published on `chibo.workflow.case.<trigger>`.

    `version` is the case's version after the transition; with `case_id` it is the message's
    identity (`Nats-Msg-Id: case-<case_id>-v<version>`).
    """

    case_id: str
    cell_id: str
    org_id: str | None
    kind: str
    year: int
    definition: str
    definition_version: str
    trigger: str
    from_state: str | None
    to_state: str
    version: int
    actor: str
    role: str
    at: datetime
    comment: str
    payload: dict[str, Any]


class CaseOverdue(msgspec.Struct, frozen=True, kw_only=True):
    """A case's deadline passed; published once per deadline on `chibo.workflow.case.overdue`."""

    case_id: str
    cell_id: str
    org_id: str | None
    state: str
    deadline: str  # inspection | remediation
    due: date
    at: datetime
