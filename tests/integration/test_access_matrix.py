"""Every route of both services, read from their OpenAPI, for every role in and out of scope,
and with no token, an expired token or a forged one: each answer is the one the table says."""

from __future__ import annotations

import base64
import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import jwt
from litestar.testing import AsyncTestClient
from nats.aio.client import Client

from services.contracts.roles import Role
from services.workflow.adapters.files import read_definition
from services.workflow.domain.machine import Workflow
from tests.integration.world import World, build_world
from tests.tokens import AUTH, bearer

# Expected status per role: `in/out` for a target inside / outside the caller's reach (the
# tokens below reach commune xa-a, or cell cb-a1); one number when both agree. Admins reach all.
# A transition answers 409 once past the checks: its `expected_version` is stale on purpose.
TABLE = """
service  method route                        admin inspector viewer  secretary rule_author source
rules    GET    /health                      200   200       200     200       200         200
rules    GET    /ready                       200   200       200     200       200         200
rules    GET    /metrics                     200   200       200     200       200         200
rules    GET    /outbox/parked               200   403       403     403       403         403
rules    POST   /events                      202   202/403   403     403       403         202
rules    GET    /findings                    200   200       200     200       403         403
rules    GET    /findings/{finding_id}       200   200/404   200/404 200/404   403         403
rules    GET    /cells                       200   200       200     200       403         403
rules    GET    /cells/pending               200   403       403     403       403         403
rules    GET    /cells/{cell_id}             200   200/404   200/404 200/404   403         403
rules    GET    /cells/{cell_id}/compliance  200   200/404   200/404 200/404   403         403
rules    GET    /cells/{cell_id}/score       200   200/404   200/404 200/404   403         403
rules    GET    /orgs                        200   200       200     403       403         403
rules    GET    /orgs/{org_id}               200   200/404   200/404 403       403         403
rules    GET    /orgs/{org_id}/scores        200   200/404   200/404 403       403         403
rules    GET    /orgs/{org_id}/summary       200   200/404   200/404 403       403         403
rules    GET    /orgs/{org_id}/summary.csv   200   200/404   200/404 403       403         403
rules    GET    /orgs/{org_id}/calendar      200   200/404   200/404 403       403         403
rules    GET    /orgs/{org_id}/trend         200   200/404   200/404 403       403         403
rules    GET    /rules                       200   200       200     200       200         403
rules    POST   /rules/reload                200   403       403     403       200         403
workflow GET    /health                      200   200       200     200       200         200
workflow GET    /ready                       200   200       200     200       200         200
workflow GET    /metrics                     200   200       200     200       200         200
workflow GET    /outbox/parked               200   403       403     403       403         403
workflow POST   /cases                       201   201/403   403     403       403         403
workflow GET    /cases                       200   200       200     200       403         403
workflow GET    /cases/{case_id}             200   200/404   200/404 200/404   403         403
workflow POST   /cases/{case_id}/transitions 409   409/403   403     409/403   403         403
workflow GET    /orgs/{org_id}/cases/summary 200   200/404   200/404 403       403         403
workflow GET    /workflows/{name}            200   200       200     200       200         403
workflow GET    /workflows/{name}/versions/{version} 200 200   200     200       200         403
"""
PUBLIC = {"/health", "/ready", "/metrics"}
CALLERS = {
    Role.admin: bearer(Role.admin),
    Role.inspector: bearer(Role.inspector, org="xa-a"),
    Role.viewer: bearer(Role.viewer, org="xa-a"),
    Role.secretary: bearer(Role.secretary, cell="cb-a1"),
    Role.rule_author: bearer(Role.rule_author),
    Role.source: bearer(Role.source),
}
# What each scoped caller must never see in any answer.
UNSEEN = {Role.inspector: {"cb-b1"}, Role.viewer: {"cb-b1"}, Role.secretary: {"cb-b1", "cb-a2"}}


CURRENT = Workflow(read_definition(Path("rules/workflows/inspection.yaml"))).version


def expectations() -> dict[tuple[str, str, str], dict[Role, tuple[int, int]]]:
    """The table as {(service, method, route): {role: (in scope, out of scope)}}."""
    lines = TABLE.strip().splitlines()
    roles = [Role(name) for name in lines[0].split()[3:]]
    table = {}
    for line in lines[1:]:
        service, method, route, *cells = line.split()
        statuses = [tuple(int(s) for s in (c.split("/") * 2)[:2]) for c in cells]
        table[(service, method, route)] = dict(zip(roles, statuses, strict=True))
    return table


def routes(client: AsyncTestClient) -> set[tuple[str, str]]:
    """(method, route) of every operation in the service's OpenAPI document."""
    paths = client.app.openapi_schema.paths or {}
    return {
        (method.upper(), path)
        for path, item in paths.items()
        for method in ("get", "post", "put", "patch", "delete")
        if getattr(item, method) is not None
    }


def request(route: str, method: str, world: World, inside: bool) -> dict[str, Any]:
    """Path, query and body of a call on `route` aimed inside or outside the callers' reach."""
    cell, org = ("cb-a1", "cs-a1") if inside else ("cb-b1", "cs-b1")
    path = route.format(
        finding_id=world.finding[cell], cell_id=cell, org_id=org, case_id=world.case[cell],
        name="inspection", version=CURRENT,
    )  # fmt: skip
    # Lists aimed outside ask for the other commune outright: the answer must still hide it.
    params = {"year": "2025", "period": "2025", **({} if inside else {"org_id": "xa-b"})}
    body: Any = None
    if route == "/events":
        body = {
            "specversion": "1.0", "id": f"evt-{next(_events)}", "source": "test",
            "type": "org.registered", "time": "2024-01-01T00:00:00+07:00", "subject": "x",
            "data": {"org_id": f"new-{next(_events)}", "name": "Mới",
                     "parent_id": "xa-a" if inside else "xa-b"},
        }  # fmt: skip
    elif route == "/cases":
        body = {"cell_id": cell, "org_id": org, "year": 2025, "allow_another": True}
    elif route.endswith("/transitions"):
        body = {"trigger": "submit_self_report", "expected_version": 999, "payload": {}}
    return {"method": method, "url": path, "params": params if method == "GET" else {}} | (
        {"json": body} if body is not None else {}
    )


_events = itertools.count()


async def test_every_route_answers_every_role_in_and_out_of_scope_as_the_table_says(
    rules: AsyncTestClient, workflow: AsyncTestClient, nc: Client, db: asyncpg.Connection
) -> None:
    world = await build_world(rules, workflow, nc, db)
    table = expectations()
    clients = {"rules": rules, "workflow": workflow}
    for name, client in clients.items():
        listed = {(m, r) for s, m, r in table if s == name}
        assert routes(client) == listed, f"{name}: routes and table differ; add the new routes"
    wrong = []
    for (service, method, route), by_role in table.items():
        for role, (inside, outside) in by_role.items():
            for aim, expected in (("in", inside), ("out", outside)):
                call = request(route, method, world, aim == "in")
                answer = await clients[service].request(**call, headers=CALLERS[role])
                if answer.status_code != expected:
                    wrong.append(f"{method} {route} as {role} ({aim}): {answer.status_code}")
                if answer.status_code < 300 and route not in PUBLIC:
                    leaked = [c for c in UNSEEN.get(role, ()) if f'"{c}"' in answer.text]
                    if leaked:
                        wrong.append(f"{method} {route} as {role} ({aim}) shows {leaked}")
    assert wrong == []


def expired() -> dict[str, str]:
    """An admin token of the right key that expired a minute ago."""
    now = datetime.now(UTC)
    claims = {
        "sub": "old", "roles": ["admin"], "iss": AUTH.issuer, "aud": AUTH.audience,
        "iat": now - timedelta(hours=9), "exp": now - timedelta(minutes=1),
    }  # fmt: skip
    return {"Authorization": "Bearer " + jwt.encode(claims, AUTH.key, algorithm="HS256")}


def forged() -> dict[str, str]:
    """A valid-looking admin token signed with another key."""
    now = datetime.now(UTC)
    claims = {
        "sub": "mallory", "roles": ["admin"], "iss": AUTH.issuer, "aud": AUTH.audience,
        "iat": now, "exp": now + timedelta(hours=1),
    }  # fmt: skip
    other_key = "not-the-key-of-this-deployment-0123456789"
    return {"Authorization": "Bearer " + jwt.encode(claims, other_key, algorithm="HS256")}


def tampered() -> dict[str, str]:
    """A real secretary token whose payload was rewritten to say admin; signature unchanged."""
    header, _, signature = (
        CALLERS[Role.secretary]["Authorization"].removeprefix("Bearer ").split(".")
    )
    now = int(datetime.now(UTC).timestamp())
    claims = {"sub": "bt", "roles": ["admin"], "iss": AUTH.issuer, "aud": AUTH.audience,
              "iat": now, "exp": now + 3600}  # fmt: skip
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return {"Authorization": f"Bearer {header}.{payload}.{signature}"}


async def test_every_guarded_route_refuses_no_token_an_expired_a_forged_or_a_tampered_one(
    rules: AsyncTestClient, workflow: AsyncTestClient
) -> None:
    refused = {
        "no token": {"Authorization": ""},
        "expired": expired(),
        "forged": forged(),
        "tampered": tampered(),
        "not a JWT": {"Authorization": "Bearer 42"},
    }
    wrong = []
    for service, client in {"rules": rules, "workflow": workflow}.items():
        for method, route in sorted(routes(client)):
            path = re.sub(r"\{\w+\}", "1", route)  # refused before the id is looked at
            for why, headers in refused.items():
                answer = await client.request(method, path, headers=headers, json={})
                expected = 200 if route in PUBLIC else 401
                if answer.status_code != expected:
                    wrong.append(f"{service} {method} {route} ({why}): {answer.status_code}")
                elif expected == 401 and not (
                    answer.headers.get("www-authenticate", "").startswith("Bearer")
                    and answer.headers["content-type"] == "application/problem+json"
                ):
                    wrong.append(f"{service} {method} {route} ({why}): not a Bearer problem")
    assert wrong == []
