"""Schemathesis against both services' OpenAPI, in-process with the lifespan running, with valid
tokens: no answer is a 5xx, and every documented answer matches its documented schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from litestar import Litestar
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance

from services.contracts.roles import Role
from services.rules.app import create_app as create_rules_app
from services.rules.settings import RulesSettings
from services.workflow.app import create_app as create_workflow_app
from services.workflow.settings import WorkflowSettings
from tests.tokens import ADMIN, bearer

# Bounded so both services together stay well under a minute on a shared 2-core machine.
EXAMPLES = 30
CHECKS = [not_a_server_error, response_schema_conformance]
CALLERS = {"admin": ADMIN, "inspector": bearer(Role.inspector, org="xa-a")}


@pytest.fixture
def apps(
    rules_settings: RulesSettings, workflow_settings: WorkflowSettings, clean: None
) -> Iterator[dict[str, Litestar]]:
    """Both apps; schemathesis starts their lifespans on first call, stopped here after."""
    yield {
        "rules": create_rules_app(rules_settings),
        "workflow": create_workflow_app(workflow_settings),
    }
    shutdown_lifespans()


def fuzz(app: Litestar, headers: dict[str, str]) -> list[str]:
    """Run every operation of the app's OpenAPI; the failures, as text."""
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    failures = []
    calls: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            calls.append(case.operation.label)
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, not just the first
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    documented = {
        f"{method.upper()} {path}"
        for path, item in (app.openapi_schema.paths or {}).items()
        for method in ("get", "post", "put", "patch", "delete")
        if getattr(item, method) is not None
    }
    assert set(calls) == documented, "every documented operation was called"
    return failures


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_no_operation_answers_5xx_or_breaks_its_schema(
    apps: dict[str, Litestar], caller: str
) -> None:
    failures = [
        f"{name} {failure}" for name, app in apps.items() for failure in fuzz(app, CALLERS[caller])
    ]
    assert failures == []
