"""Errors mapped to HTTP in exactly one place, as RFC 9457 problem details, and how the OpenAPI
documents describe them."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap

from services.infra.database import TRANSIENT_ERRORS
from services.infra.errors import ChiboError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class ProblemDetails(msgspec.Struct, kw_only=True):
    """An error, as RFC 9457 problem details: the five standard members, and those that name
    what to fix where there is something to name."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    field: str | None = None  # the parameter or field at fault
    errors: list[Any] | None = None  # each fault, where there are several
    accepted: list[str] | None = None  # events stored although others were refused
    duplicates: list[str] | None = None  # events received before
    refusals: list[dict[str, str]] | None = None  # the guards that refused, and why
    current_version: int | None = None  # a case's version now, when the caller's was stale
    existing: str | None = None  # the case already open, when a second one was refused


# What each status means for a Chibo caller, as the API documents say it.
MEANINGS = {
    400: "The request cannot be read, or a parameter is out of its bounds (`errors` or `field`).",
    401: "No valid bearer token (missing, expired, tampered, or not Chibo's).",
    403: "The token's role may not do this, or the target is outside its org or cell.",
    404: "Nothing of that id within the caller's reach.",
    409: "The target changed meanwhile, or the request conflicts with its state.",
    413: "The body is larger than the service reads.",
    422: "Well formed, but breaks a rule of the contract (`errors`, `field` or `refusals`).",
    503: "A database or messaging fault that passes by itself: try again shortly.",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The OpenAPI responses of `statuses`, each problem details."""
    return {
        status: ResponseSpec(
            data_container=ProblemDetails,
            media_type=PROBLEM_JSON,
            description=MEANINGS[status],
            generate_examples=False,
        )
        for status in statuses
    }


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
        detail = f"The request to {request.method} {request.url.path} is invalid"
        if exc.extra:
            detail += "; see `errors`."
            extra["errors"] = [_as_written(request, error) for error in exc.extra]
        else:
            detail += "."
    # Some carry headers the caller needs: `Allow` on a 405, say.
    headers = dict(exc.headers or {})
    return problem(exc.status_code, _reason(exc.status_code), detail, request, headers, **extra)


def _as_written(request: Request[Any, Any, Any], error: Any) -> Any:
    """A validation error naming its parameter as the caller writes it (`state`), not as the
    handler's argument is called (`case_state`, since Litestar keeps `state` for itself)."""
    if not isinstance(error, dict) or not isinstance(error.get("key"), str):
        return error
    parameter = request.route_handler.parsed_fn_signature.parameters.get(error["key"])
    written = parameter.kwarg_definition if parameter else None
    alias = getattr(written, "query", None) or getattr(written, "name", None)
    return {**error, "key": alias} if isinstance(alias, str) else error


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
