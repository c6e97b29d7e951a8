"""The pages service's composition root: settings in, the Litestar app out.

The service keeps no data: every page is built from the rules and workflow APIs, called with
the signed-in person's own token. Forms carry a CSRF token; every answer carries a
Content-Security-Policy allowing only this origin; every asset is served from `static/`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Response, get
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import CacheControlHeader, State
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from services.infra.clock import Clock, SystemClock
from services.web.adapters.api import Apis
from services.web.entrypoints import cases, imports, pages, session
from services.web.entrypoints.deps import DEPENDENCIES
from services.web.entrypoints.errors import EXCEPTION_HANDLERS
from services.web.entrypoints.render import environment
from services.web.service.signin import CodeBook
from services.web.settings import WebSettings

STATIC = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


class Health(msgspec.Struct):
    """Liveness: the process answers."""

    status: str


@get("/health", include_in_schema=False)
async def health() -> Health:
    """The process answers."""
    return Health("ok")


@get("/ready", include_in_schema=False)
async def ready(state: State) -> Response[Health]:
    """Ready once both APIs answer their own health check."""
    apis: Apis = state.apis
    try:
        for service in ("rules", "workflow"):
            await apis.request(service, "GET", "/health", None)
    except Exception:
        return Response(Health("unavailable"), status_code=503)
    return Response(Health("ok"))


def create_app(settings: WebSettings, clock: Clock | None = None) -> Litestar:
    """The pages service, calling the APIs at the URLs `settings` name."""
    # Each API call is timed in the metrics; a log line per call would drown the log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    time = clock or SystemClock()
    codes = CodeBook(settings.auth, time, settings.signin_code_seconds)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        apis = Apis(settings.rules_url, settings.workflow_url, settings.api_timeout_seconds)
        app.state.update(apis=apis)
        try:
            yield
        finally:
            await apis.close()

    def secure(response: Response[Any]) -> Response[Any]:
        response.headers.update(SECURITY_HEADERS)
        return response

    static = create_static_files_router(
        path="/static",
        directories=[STATIC],
        include_in_schema=False,
        cache_control=CacheControlHeader(max_age=3600, public=True),
        name="static",
    )
    return Litestar(
        route_handlers=[
            health,
            ready,
            static,
            session.signin_form,
            session.signin,
            session.signin_with_code,
            session.issue_code,
            session.signout,
            session.choose_language,
            pages.home,
            pages.me,
            pages.org_tree,
            pages.org,
            pages.report_csv,
            pages.report_xlsx,
            pages.cell,
            pages.finding,
            pages.rule_pack,
            pages.reload_rules,
            cases.board,
            cases.my_cases,
            cases.case,
            cases.fire,
            cases.open_case,
            imports.import_form,
            imports.import_template,
            imports.import_upload,
        ],
        dependencies=DEPENDENCIES,
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        after_request=secure,
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment())),
        csrf_config=CSRFConfig(
            secret=_derived(settings.auth.key, "csrf"),
            cookie_name="chibo_csrf",
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            cookie_samesite="lax",
            # A sign-on portal posts a token from its own site, and a code is asked for with a
            # bearer token, never a cookie: neither can be forged from a person's session.
            exclude=["/signin$", "/signin/codes$"],
        ),
        openapi_config=None,
        state=State(
            {
                "settings": settings,
                "codes": codes,
            }
        ),
        request_max_body_size=settings.max_body_bytes,
    )


def _derived(key: str, purpose: str) -> str:
    """A secret for `purpose` derived from the shared key: one setting less, none shared."""
    return hmac.new(key.encode(), purpose.encode(), hashlib.sha256).hexdigest()
