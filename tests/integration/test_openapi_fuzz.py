"""Schemathesis against both services' OpenAPI, in-process with the lifespan running, with valid
tokens: every default conformance check passes, on every operation.

The one check left out, `positive_data_acceptance`, expects a 2xx for every request the schema
allows; but a request can conform to the schema and still break a rule it cannot state (an
event's members present beyond those expected, a trigger's payload fields, a guard), and those
are answered 400 or 422 by design, documented on the operation like every other answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from litestar import Litestar
from schemathesis.python.asgi import shutdown_lifespans

from services.contracts.roles import Role
from services.rules.app import create_app as create_rules_app
from services.rules.settings import RulesSettings
from services.workflow.app import create_app as create_workflow_app
from services.workflow.settings import WorkflowSettings
from tests.tokens import ADMIN, bearer

# Bounded so both services together stay well under a minute on a shared 2-core machine.
EXAMPLES = 30
CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {"enabled": False}}})
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
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app, config=CONFIG)
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
            case.call_and_validate(headers=headers)

        try:
            run()
        except BaseException as exc:  # every operation's failure, not just the first's
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
    assert failures == [], "\n\n".join(failures)
