"""Errors as pages, in one place: a missing session goes to the sign-in form, what the API
would not show is a 404 page (as the API answers), and a fault a page without a trace."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

from services.web.entrypoints.render import page
from services.web.errors import (
    ApiError,
    ApiUnavailableError,
    BadFormError,
    ForbiddenPageError,
    SignInNeededError,
)

log = logging.getLogger(__name__)

# What each status is called on its page, and the sentence under it.
_PAGES = {
    400: ("bad_request", "bad_request_lead"),
    403: ("forbidden", "forbidden_lead"),
    404: ("not_found", "not_found_lead"),
    503: ("unavailable", "unavailable_lead"),
    500: ("error", "error_lead"),
}


def _error_page(request: Request[Any, Any, Any], status: int) -> Response[Any]:
    shown = status if status in _PAGES else 500
    title, lead = _PAGES[shown]
    return page(request, "error.html.jinja", status=shown, title=title, lead=lead)


def _sign_in(request: Request[Any, Any, Any], exc: SignInNeededError) -> Response[Any]:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/signin?next={quote(target, safe='/')}", status_code=303)


def _api(request: Request[Any, Any, Any], exc: ApiError) -> Response[Any]:
    if exc.status_code == 401:
        return _sign_in(request, SignInNeededError("the API refused the token"))
    if exc.status_code >= 500 or exc.status_code not in (400, 403, 404):
        log.warning("an API answered %s on %s: %s", exc.status_code, request.url.path, exc)
    # What the API would not show (403 for a scope outside the person's reach too) is not there.
    status = 404 if exc.status_code in (403, 404) else exc.status_code
    return _error_page(request, status if status in _PAGES else 500)


def _unavailable(request: Request[Any, Any, Any], exc: ApiUnavailableError) -> Response[Any]:
    log.warning("%s", exc.detail)
    return _error_page(request, 503)


def _refused(
    request: Request[Any, Any, Any], exc: ForbiddenPageError | BadFormError
) -> Response[Any]:
    return _error_page(request, exc.status)


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return _error_page(request, exc.status_code)


def _fault(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _error_page(request, 500)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SignInNeededError: _sign_in,
    ApiError: _api,
    ApiUnavailableError: _unavailable,
    ForbiddenPageError: _refused,
    BadFormError: _refused,
    NotFoundException: _http,
    HTTPException: _http,
    Exception: _fault,
}
