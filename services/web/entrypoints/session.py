"""Signing in and out, and the language a person reads in.

The session is the person's token in an HttpOnly, SameSite=Lax cookie (Secure behind HTTPS),
expiring with the token. A token arrives in a form field or an `Authorization` header of
`POST /signin` (a deployment's sign-on portal posts it there), or is redeemed from a one-time
code (`GET /signin/<code>`, the links `chibo up` prints); it never travels in a URL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from services.infra.auth.claims import MAX_TOKEN_CHARACTERS
from services.web.entrypoints.deps import SESSION_COOKIE, CodesDep, SettingsDep
from services.web.entrypoints.render import LANGUAGE_COOKIE, page
from services.web.errors import SignInNeededError
from services.web.service.signin import IssuedCode, Person, person_of
from services.web.settings import WebSettings


class SignInForm(msgspec.Struct, kw_only=True):
    """The sign-in form: a token, and where to go afterwards."""

    token: Annotated[str, msgspec.Meta(max_length=MAX_TOKEN_CHARACTERS)] = ""
    next: Annotated[str, msgspec.Meta(max_length=2000)] = "/"


class LanguageForm(msgspec.Struct, kw_only=True):
    """The language switch: `vi` or `en`, and the page to go back to."""

    lang: str = "vi"
    next: Annotated[str, msgspec.Meta(max_length=2000)] = "/"


Form = Body(media_type=RequestEncodingType.URL_ENCODED)


@get("/signin", name="signin-form")
async def signin_form(request: Request[Any, Any, Any], next: str = "/") -> Template:
    """The form a person pastes a token into."""
    return page(request, "signin.html.jinja", next=local(next), failed=False)


@post("/signin", status_code=303)
async def signin(
    request: Request[Any, Any, Any],
    settings: SettingsDep,
    data: Annotated[SignInForm, Form],
) -> Response[Any]:
    """Sign in with a token (form field, or `Authorization: Bearer`), then go on."""
    header = request.headers.get("authorization", "")
    token = data.token.strip() or header.removeprefix("Bearer ").strip()
    try:
        person = person_of(settings.auth, token)
    except SignInNeededError:
        return page(request, "signin.html.jinja", status=401, next=local(data.next), failed=True)
    return signed_in(Redirect(local(data.next)), person, settings)


@get("/signin/{code:str}", name="signin-code")
async def signin_with_code(
    request: Request[Any, Any, Any], code: str, codes: CodesDep, settings: SettingsDep
) -> Response[Any]:
    """Redeem a one-time code: signed in, and on to the home page."""
    try:
        person = codes.redeem(code)
    except SignInNeededError:
        return page(request, "signin.html.jinja", status=401, next="/", failed=True, used=True)
    return signed_in(Redirect("/"), person, settings)


@post("/signin/codes", status_code=201)
async def issue_code(request: Request[Any, Any, Any], codes: CodesDep) -> IssuedCode:
    """Swap the bearer token of this request for a one-time code (`/signin/<code>`)."""
    token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    return codes.issue(token)


@post("/signout", status_code=303)
async def signout() -> Redirect:
    """Forget the session and go to the sign-in form."""
    response = Redirect("/signin")
    response.delete_cookie(SESSION_COOKIE)
    return response


@post("/language", status_code=303)
async def choose_language(data: Annotated[LanguageForm, Form], settings: SettingsDep) -> Redirect:
    """Keep the person's language (a year) and go back to the page they were on."""
    response = Redirect(local(data.next))
    response.set_cookie(
        LANGUAGE_COOKIE,
        "en" if data.lang == "en" else "vi",
        max_age=366 * 86_400,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


def signed_in(response: Response[Any], person: Person, settings: WebSettings) -> Response[Any]:
    """`response` with the session cookie set, expiring with the token."""
    left = person.claims.exp - datetime.now(person.claims.exp.tzinfo)
    response.set_cookie(
        SESSION_COOKIE,
        person.token,
        max_age=max(int(left.total_seconds()), 0),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


def local(target: str) -> str:
    """`target` if it is a path on this site, else the home page: a link never leads away."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    # Browsers read a backslash as a slash and drop tabs and newlines: `/\evil.example` and
    # `/\t/evil.example` would lead away.
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return "/"
    return target
