"""Errors of the workflow service, all under `WorkflowError`; each carries its HTTP status."""

from __future__ import annotations

from typing import Any

from services.infra.errors import (
    BadRequestError,
    ChiboError,
    ConflictError,
    FileProblemsError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
)


class WorkflowError(ChiboError):
    """Base of every error the workflow service raises on purpose."""


class DefinitionError(WorkflowError, FileProblemsError):
    """Definition or policy files that do not load; `problems` says where and why."""


class CaseNotFoundError(WorkflowError, NotFoundError):
    """No case (or workflow) with that id."""


class UnknownTriggerError(WorkflowError, BadRequestError):
    """The case's definition has no trigger of that name."""


class PayloadError(WorkflowError, BadRequestError):
    """The payload does not match what the trigger takes; `field` names the culprit."""

    def __init__(self, detail: str, field: str) -> None:
        super().__init__(detail, field=field)


class RoleError(WorkflowError, ForbiddenError):
    """The caller's role may not fire this trigger."""


class StaleVersionError(WorkflowError, ConflictError):
    """The case moved on since the caller read it; re-read and decide again."""

    def __init__(self, detail: str, current_version: int | None) -> None:
        super().__init__(detail, current_version=current_version)


class NotFromStateError(WorkflowError, ConflictError):
    """The trigger exists but does not fire from the case's current state."""


class GuardRefusedError(WorkflowError, InvalidInputError):
    """Every transition of the trigger was refused by a guard; `refusals` say which and why."""

    def __init__(self, detail: str, refusals: list[dict[str, Any]]) -> None:
        super().__init__(detail, refusals=refusals)
