"""Errors mapped to HTTP in exactly one place, as RFC 9457 problem details."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from services.infra.database import TRANSIENT_ERRORS
from services.infra.errors import ChiboError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str,
    request: Request[Any, Any, Any],
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    """A problem-details response; `extra` members carry what the caller needs to fix."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    if status == 401:
        # RFC 6750: a refused bearer token says which scheme the caller should use.
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="chibo"'}
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _chibo_error(request: Request[Any, Any, Any], exc: ChiboError) -> Response[dict[str, Any]]:
    if exc.status >= 500:
        log.error("request failed: %s", exc.detail)
    return problem(exc.status, exc.title, exc.detail, request, **exc.extensions)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    extra: dict[str, Any] = {}
    detail = str(exc.detail)
    if isinstance(exc, ValidationException):
        # Litestar's message repeats the URL with its query string, which may carry anything the
        # caller typed (even a secret); `errors` already names each field and what it expects.
        detail = f"The request to {request.method} {request.url.path} is invalid; see `errors`."
        if exc.extra:
            extra["errors"] = exc.extra
    return problem(exc.status_code, _reason(exc.status_code), detail, request, **extra)


def _too_deep(request: Request[Any, Any, Any], exc: RecursionError) -> Response[dict[str, Any]]:
    # Typed Structs bound nesting by their shape; only free-form values (a transition's payload)
    # can nest without end, and the decoder stops at Python's recursion limit.
    return problem(400, "Bad request", "The JSON is nested too deeply.", request)


def _unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.warning("request hit a passing fault: %s", exc)
    detail = "A database or messaging fault that passes by itself; try again shortly."
    return problem(503, "Service unavailable", detail, request, headers={"Retry-After": "2"})


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    # The trace goes to the log, never to the caller.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "Internal error", "An unexpected error occurred.", request)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ChiboError: _chibo_error,
    HTTPException: _http_error,
    **dict.fromkeys(TRANSIENT_ERRORS, _unavailable),
    RecursionError: _too_deep,
    Exception: _unexpected,
}
