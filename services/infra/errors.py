"""The error base every Chibo error derives from, grouped by what the caller did wrong.

Each class carries the HTTP status it maps to; `services.infra.problems` turns them into RFC 9457
problem details in exactly one place.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec


class ChiboError(Exception):
    """Base of every error Chibo raises on purpose."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class StartupError(ChiboError):
    """A server or dependency could not be started or reached at start-up."""

    title = "Start-up failed"


class InvalidInputError(ChiboError):
    """The request or message breaks a contract; `extensions` name the fields."""

    status = 422
    title = "Invalid input"


class BadRequestError(ChiboError):
    """The request cannot be read at all (not JSON, too large, wrong shape)."""

    status = 400
    title = "Bad request"


class NotFoundError(ChiboError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    status = 404
    title = "Not found"


class ConflictError(ChiboError):
    """The request conflicts with the current state, e.g. a stale version."""

    status = 409
    title = "Conflict"


class PayloadTooLargeError(ChiboError):
    """The request carries more than the documented limit."""

    status = 413
    title = "Content too large"


class UnauthorizedError(ChiboError):
    """The caller did not say who they are (or not in a form Chibo accepts)."""

    status = 401
    title = "Unauthorized"


class ForbiddenError(ChiboError):
    """The caller is known but may not do this."""

    status = 403
    title = "Forbidden"


class Problem(msgspec.Struct, frozen=True, order=True):
    """One fault in a file, where an editor can jump to it."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class FileProblemsError(ChiboError):
    """Files that do not load; `problems` says where and why, every fault at once."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
