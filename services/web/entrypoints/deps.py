"""What a page handler is given: the signed-in person (from the session cookie), and the APIs
as that person sees them."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from services.web.adapters.api import Apis, Caller
from services.web.service.signin import CodeBook, Person, person_of
from services.web.settings import WebSettings

SESSION_COOKIE = "chibo_session"


def _person(request: Request[Any, Any, State]) -> Person:
    settings: WebSettings = request.app.state.settings
    return person_of(settings.auth, request.cookies.get(SESSION_COOKIE))


def _caller(request: Request[Any, Any, State], person: Person) -> Caller:
    apis: Apis = request.app.state.apis
    return apis.as_person(person.token)


def _codes(request: Request[Any, Any, State]) -> CodeBook:
    return request.app.state.codes  # type: ignore[no-any-return]


def _settings(request: Request[Any, Any, State]) -> WebSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


DEPENDENCIES = {
    "person": Provide(_person, sync_to_thread=False),
    "caller": Provide(_caller, sync_to_thread=False),
    "codes": Provide(_codes, sync_to_thread=False),
    "settings": Provide(_settings, sync_to_thread=False),
}

PersonDep = NamedDependency[Person]
CallerDep = NamedDependency[Caller]
CodesDep = NamedDependency[CodeBook]
SettingsDep = NamedDependency[WebSettings]
