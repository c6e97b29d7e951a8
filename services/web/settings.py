"""The pages service's settings, from `CHIBO_WEB_*` (and the shared `CHIBO_AUTH_*`)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from services.infra.auth import AuthSettings

PREFIX = "CHIBO_WEB_"


class WebSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Where the pages are served and where the two APIs they are built on answer."""

    auth: AuthSettings
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    # The APIs, called with the signed-in person's own token.
    rules_url: str = "http://127.0.0.1:8001"
    workflow_url: str = "http://127.0.0.1:8002"
    api_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=120)] = 15.0
    # Cookies marked `Secure`: set it behind HTTPS (a deployment's proxy), never on plain HTTP.
    secure_cookies: bool = False
    # How long a one-time sign-in code (a link `chibo up` prints) may wait to be used.
    signin_code_seconds: Annotated[int, msgspec.Meta(ge=30, le=3600)] = 600
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 256 * 1024
    max_header_bytes: int = 32 * 1024
    max_headers: int = 100
