"""Errors of the pages service, all under `WebError`; `entrypoints.errors` turns each into a
page, in one place."""

from __future__ import annotations

from typing import Any

from services.infra.errors import ChiboError


class WebError(ChiboError):
    """Base of every error the pages service raises on purpose."""


class SignInNeededError(WebError):
    """No session, or its token expired or no longer verifies: the person signs in again."""

    status = 401
    title = "Sign-in needed"


class ApiError(WebError):
    """An API answered with a problem: its status and problem details (`problem`), which the
    page shows in words where it names a field or a guard."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(str(problem.get("detail") or problem.get("title") or status))
        self.status_code = status
        self.problem = problem

    @property
    def errors(self) -> list[Any]:
        """Each fault the API named, where it named several."""
        found = self.problem.get("errors")
        return list(found) if isinstance(found, list) else []


class BadFormError(WebError):
    """A form the pages did not draw (a value no input of theirs can send)."""

    status = 400
    title = "Bad request"


class ForbiddenPageError(WebError):
    """A page the person's role has no use of, asked without any API call that would say so."""

    status = 403
    title = "Forbidden"


class ApiUnavailableError(WebError):
    """An API could not be reached or did not answer in time."""

    status = 503
    title = "Service unavailable"
