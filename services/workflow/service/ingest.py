"""What the workflow service takes from others: findings (through the policy), cells and orgs.

Each runs inside the consumer's transaction. All are idempotent: a finding is kept by its
identity with its latest status, a proposal by its key (policy, cell, year), a cell or org by
its id, so a redelivered message has no second effect.

A cell's findings and registrations are taken one transaction at a time (the cell's lock): two
replicas (or consumers) each taking one finding must not each miss the other's and so never
reach a policy's count; and a case proposed while the cell's registration commits must not miss
its organisation (the registration would not see the uncommitted case to fill in, nor the
proposal the uncommitted cell), or no inspector of the org would see it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from services.contracts.calendar import vietnam_date
from services.contracts.events import CellRegisteredEvent, OrgRegisteredEvent
from services.contracts.findings import Finding, FindingStatus
from services.contracts.roles import Role
from services.contracts.wording import number
from services.infra.database import Connection
from services.workflow.adapters import repository
from services.workflow.domain.fields import FindingRef, Payload
from services.workflow.domain.model import Case
from services.workflow.domain.policy import Policy
from services.workflow.service.access import Caller
from services.workflow.service.handlers import move, store_opened
from services.workflow.service.registry import Registry


def withdrawn_because(count: int) -> str:
    """The comment a withdrawal is audited with, Vietnamese first."""
    vi, en = number(count, "vi"), number(count, "en")
    return (
        f"Cả {vi} kết quả giám sát dẫn tới đề xuất đã hết vi phạm"
        f" — all {en} findings behind the proposal have resolved"
    )


async def take_finding(
    conn: Connection,
    finding: Finding,
    policies: Sequence[Policy],
    registry: Registry,
    now: datetime,
) -> list[str]:
    """Keep the finding's latest status, then open the cases its policies propose (their ids)
    and withdraw the proposals whose findings have all resolved."""
    year = finding.period_start.year
    await repository.lock_cell(conn, finding.cell_id)
    await repository.keep_finding(conn, finding)
    opened = []
    for policy in policies:
        key = f"{policy.id}/{finding.cell_id}/{year}"
        caller = Caller(actor=f"policy:{policy.id}", roles=(Role.admin,), sees_all=True)
        if finding.status == FindingStatus.resolved:
            await _withdraw_if_resolved(conn, policy, key, caller, registry, now)
            continue
        found = await repository.open_findings(conn, finding.cell_id, year, policy.severities)
        if len(found) < policy.open_findings_at_least or not _proposes(policy, year, now):
            continue
        workflow = registry.latest(policy.propose.workflow)
        case = Case(
            id=str(uuid.uuid4()),
            cell_id=finding.cell_id,
            org_id=await repository.cell_org(conn, finding.cell_id),
            kind=policy.propose.kind,
            year=year,
            state=policy.propose.state,
            definition=workflow.definition.name,
            definition_version=workflow.version,
            findings=[FindingRef(*identity) for identity in found],
        )
        if await store_opened(conn, case, caller, policy.title, now, key):
            opened.append(case.id)
    return opened


def _proposes(policy: Policy, year: int, now: datetime) -> bool:
    """Whether `policy` proposes cases for `year` at all (see `Proposal.years_back`)."""
    back = policy.propose.years_back
    return back is None or year >= vietnam_date(now).year - back


async def _withdraw_if_resolved(
    conn: Connection,
    policy: Policy,
    key: str,
    caller: Caller,
    registry: Registry,
    now: datetime,
) -> None:
    """Withdraw the proposal under `key` if it is still as proposed and none of the findings
    behind it is open any more."""
    target = policy.propose
    if target.withdraw is None:
        return
    case = await repository.proposed_case(conn, key)
    if case is None or case.state != target.state or await repository.any_open(conn, case.findings):
        return
    workflow = await registry.get(conn, case.definition, case.definition_version)
    if case.state not in workflow.sources(target.withdraw):
        return  # the version the case runs has no such move (it predates the trigger)
    comment = withdrawn_because(len(case.findings))
    actor, trigger = caller.actor, target.withdraw
    await move(conn, workflow, case, trigger, Payload(), actor, Role.admin, comment, now)


async def take_cell(conn: Connection, event: CellRegisteredEvent) -> None:
    """Remember the cell's organisation (latest registration wins) and fill it into its cases."""
    await repository.lock_cell(conn, event.data.cell_id)
    await repository.keep_cell(conn, event)


async def take_org(conn: Connection, event: OrgRegisteredEvent) -> None:
    """Remember where the organisation sits in the tree (latest registration wins)."""
    await repository.keep_org(conn, event)
