"""Handlers for what the workflow service consumes: findings (through the policy) and cells.

Each runs inside the consumer's transaction. Both are idempotent: a finding is kept by its
identity with its latest status, a proposal by its key (policy, cell, year), a cell by its id,
so a redelivered message has no second effect.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from services.contracts.events import CellRegisteredEvent, OrgRegisteredEvent
from services.contracts.findings import Finding, Mode
from services.infra.database import Connection
from services.workflow.domain.definition import Role
from services.workflow.domain.fields import FindingRef
from services.workflow.domain.model import Case
from services.workflow.domain.policy import Policy
from services.workflow.service.caller import Caller
from services.workflow.service.handlers import store_opened
from services.workflow.service.registry import Registry

_CELL_LOCKS = 7401
# The same order as the rules service: envelope time, then event id byte-wise.
_NEWER = "(excluded.event_time, excluded.event_id) > ({table}.event_time, {table}.event_id)"


async def take_finding(
    conn: Connection, finding: Finding, policies: list[Policy], registry: Registry, now: datetime
) -> list[str]:
    """Keep the finding's latest status, then open the cases its policies propose; their ids."""
    year = finding.period_start.year
    await _lock_cell(conn, finding.cell_id)
    await conn.execute(
        "insert into workflow.findings"
        " (rule_id, cell_id, scope, year, status, severity, mode, revision)"
        " values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (rule_id, cell_id, scope) do update"
        " set status = excluded.status, severity = excluded.severity, mode = excluded.mode,"
        " revision = excluded.revision where findings.revision <= excluded.revision",
        finding.rule_id,
        finding.cell_id,
        finding.scope,
        year,
        finding.status,
        finding.severity,
        finding.mode,
        finding.revision,
    )
    opened = []
    for policy in policies:
        rows = await conn.fetch(
            "select rule_id, cell_id, scope from workflow.findings where cell_id = $1"
            " and year = $2 and status = 'open' and mode = $3 and severity = any($4::text[])"
            " order by rule_id, scope",
            finding.cell_id,
            year,
            Mode.enforce,
            list(policy.severities),
        )
        if len(rows) < policy.open_findings_at_least:
            continue
        workflow = registry.latest(policy.propose.workflow)
        org_id = await conn.fetchval(
            "select org_id from workflow.cells where cell_id = $1", finding.cell_id
        )
        case = Case(
            id=str(uuid.uuid4()),
            cell_id=finding.cell_id,
            org_id=org_id,
            kind=policy.propose.kind,
            year=year,
            state=policy.propose.state,
            definition=workflow.definition.name,
            definition_version=workflow.version,
            findings=[FindingRef(r["rule_id"], r["cell_id"], r["scope"]) for r in rows],
        )
        key = f"{policy.id}/{finding.cell_id}/{year}"
        caller = Caller(actor=f"policy:{policy.id}", roles=(Role.admin,), everywhere=True)
        if await store_opened(conn, case, caller, policy.title, now, key):
            opened.append(case.id)
    return opened


async def take_cell(conn: Connection, event: CellRegisteredEvent) -> None:
    """Remember the cell's organisation (latest registration wins) and fill it into its cases."""
    await _lock_cell(conn, event.data.cell_id)
    await conn.execute(
        "insert into workflow.cells (cell_id, org_id, event_time, event_id)"
        " values ($1, $2, $3, $4) on conflict (cell_id) do update set org_id = excluded.org_id,"
        " event_time = excluded.event_time, event_id = excluded.event_id"
        f" where {_NEWER.format(table='cells')}",
        event.data.cell_id,
        event.data.org_id,
        event.time,
        event.id,
    )
    await conn.execute(
        "update workflow.cases set org_id = $2 where cell_id = $1 and org_id is null",
        event.data.cell_id,
        event.data.org_id,
    )


async def _lock_cell(conn: Connection, cell_id: str) -> None:
    """Take one cell's findings and registrations one transaction at a time, until commit.

    Two replicas (or consumers) each taking one finding must not each miss the other's and so
    never reach a policy's count; and a case proposed while the cell's registration commits
    must not miss its organisation (the registration would not see the uncommitted case to
    fill in, nor the proposal the uncommitted cell), or no inspector of the org would see it.
    """
    await conn.execute("select pg_advisory_xact_lock($1, hashtext($2))", _CELL_LOCKS, cell_id)


async def take_org(conn: Connection, event: OrgRegisteredEvent) -> None:
    """Remember where the organisation sits in the tree (latest registration wins)."""
    await conn.execute(
        "insert into workflow.orgs (org_id, parent_id, event_time, event_id)"
        " values ($1, $2, $3, $4) on conflict (org_id) do update"
        " set parent_id = excluded.parent_id, event_time = excluded.event_time,"
        f" event_id = excluded.event_id where {_NEWER.format(table='orgs')}",
        event.data.org_id,
        event.data.parent_id,
        event.time,
        event.id,
    )
