"""The service layer: open a case, fire a trigger (one function per command, each committing
once), and read cases as the caller may.

A transition's case row, audit row and outbox message are written in one statement, the row only
if it is still at the version the caller read (`where id = $1 and version = $2`): of two
concurrent transitions exactly one is written, the other gets 409.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import msgspec

from services.contracts.roles import Role
from services.infra import outbox
from services.infra.auth.scope import reach
from services.infra.clock import Clock
from services.infra.database import Connection
from services.infra.errors import ConflictError, InvalidInputError
from services.workflow.adapters import queries, repository
from services.workflow.adapters.queries import CaseFilter, CasePage, CaseSummary
from services.workflow.domain import model
from services.workflow.domain.commands import FireTrigger, OpenCase
from services.workflow.domain.fields import Payload, decode_payload
from services.workflow.domain.machine import Workflow
from services.workflow.domain.model import AuditEntry, Case, transition_message
from services.workflow.domain.policy import Policy
from services.workflow.errors import RoleError, StaleVersionError
from services.workflow.metrics import Metrics
from services.workflow.service import access
from services.workflow.service.access import Caller
from services.workflow.service.registry import Registry

SCHEMA = "workflow"
OPEN = "open"  # the pseudo-trigger recorded when a case is opened
_OPENERS = (Role.inspector, Role.admin)


@dataclass(frozen=True)
class Service:
    """What the handlers need, built once by the composition root."""

    pool: asyncpg.Pool
    registry: Registry
    clock: Clock
    wake: Callable[[], None]  # tells the outbox relay that rows were committed
    metrics: Metrics
    policies: Sequence[Policy] = ()  # which findings propose which cases


class Transitioned(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a transition: where the case is now and its new version."""

    case_id: str
    trigger: str
    from_state: str
    state: str
    version: int


async def open_case(svc: Service, command: OpenCase, caller: Caller) -> Case:
    """Open a case in the initial state of the current version of its workflow."""
    if caller.acting_as(_OPENERS) is None:
        raise RoleError("only an inspector or an admin may open cases")
    workflow = svc.registry.latest(command.workflow)
    case = Case(
        id=str(uuid.uuid4()),
        cell_id=command.cell_id,
        org_id=command.org_id,
        kind=command.kind,
        year=command.year,
        state=workflow.definition.initial,
        definition=workflow.definition.name,
        definition_version=workflow.version,
        findings=command.findings,
    )
    async with svc.pool.acquire() as conn, conn.transaction():
        await repository.lock_cell(conn, case.cell_id)  # two opens at once: one sees the other
        await access.require_can_open(conn, caller, command)
        await _require_cell_of_org(conn, command)
        if not command.allow_another:
            final = workflow.definition.final
            if other := await repository.open_case_of(
                conn, case.cell_id, case.kind, case.year, final
            ):
                raise ConflictError(
                    f"cell `{case.cell_id}` has an open {case.kind} case for {case.year}"
                    f" ({other}); set `allow_another` to open a second one",
                    existing=other,
                )
        await store_opened(conn, case, caller, command.comment, svc.clock.now(), None)
    svc.wake()
    svc.metrics.cases_opened.labels("person").inc()
    return case


async def _require_cell_of_org(conn: Connection, command: OpenCase) -> None:
    """422 unless the cell is registered, under the org named (as this service learned them)."""
    registered = await repository.cell_org(conn, command.cell_id)
    if registered is None:
        raise InvalidInputError(f"no cell `{command.cell_id}` is registered", field="cell_id")
    if not await repository.org_exists(conn, command.org_id):
        raise InvalidInputError(f"no org `{command.org_id}` is registered", field="org_id")
    if registered != command.org_id:
        raise InvalidInputError(
            f"cell `{command.cell_id}` is registered under `{registered}`, not `{command.org_id}`",
            field="org_id",
        )


async def store_opened(
    conn: Connection, case: Case, caller: Caller, comment: str, at: datetime, key: str | None
) -> bool:
    """Insert a new case with its first audit row and `open` message; False if `key` exists."""
    if not await repository.insert_case(conn, case, at, key):
        return False
    entry = AuditEntry(
        version=case.version,
        at=at,
        actor=caller.actor,
        role=caller.acting_as(_OPENERS) or Role.admin,
        trigger=OPEN,
        from_state=None,
        to_state=case.state,
        comment=comment,
        payload={},
    )
    await repository.append_audit(conn, case.id, entry)
    await outbox.enqueue(conn, SCHEMA, [outbox.Message(*transition_message(case, entry))])
    return True


async def move(
    conn: Connection,
    workflow: Workflow,
    case: Case,
    trigger: str,
    payload: Payload,
    actor: str,
    role: Role,
    comment: str,
    now: datetime,
) -> bool:
    """Fire `trigger` on `case` as read, in the caller's transaction: the case moved, its audit
    row and its message written at once; False (nothing written) if it moved meanwhile. Raises
    what `Workflow.fire` raises when the trigger does not fire from the state or a guard
    refuses."""
    expected, from_state = case.version, case.state
    new_state = workflow.fire(case, trigger, payload)
    case.state, case.version = new_state, case.version + 1
    model.record(case, payload, actor, now)
    model.schedule(case, workflow.definition)
    entry = AuditEntry(
        version=case.version,
        at=now,
        actor=actor,
        role=role,
        trigger=trigger,
        from_state=from_state,
        to_state=new_state,
        comment=comment,
        payload=msgspec.to_builtins(payload),
    )
    message = outbox.Message(*transition_message(case, entry))
    return await repository.commit_transition(conn, case, expected, entry, message)


async def fire(svc: Service, case_id: str, command: FireTrigger, caller: Caller) -> Transitioned:
    """Fire a trigger on a case, checking role, version, payload and guards in that order."""
    async with svc.pool.acquire() as conn:
        case = await access.writable_case(conn, caller, case_id)
        workflow = await svc.registry.get(conn, case.definition, case.definition_version)
        trigger = workflow.trigger(command.trigger)
        role = caller.acting_as(trigger.roles)
        if role is None:
            roles = ", ".join(trigger.roles)
            raise RoleError(f"a {caller.title} may not fire `{command.trigger}`; only {roles}")
        if command.expected_version != case.version:
            raise _stale(case.version)
        payload = decode_payload(command.trigger, trigger, command.payload, command.comment)
        from_state = case.state
        moved = await move(
            conn, workflow, case, command.trigger, payload, caller.actor, role, command.comment,
            svc.clock.now(),
        )  # fmt: skip
        if not moved:
            raise _stale(None)
        new_state = case.state
    svc.wake()
    svc.metrics.transitions.labels(command.trigger).inc()
    return Transitioned(
        case_id=case.id,
        trigger=command.trigger,
        from_state=from_state,
        state=new_state,
        version=case.version,
    )


class CaseDetail(msgspec.Struct, frozen=True, kw_only=True):
    """A case with its audit trail and the triggers the caller may fire now."""

    case: Case
    history: list[AuditEntry]
    available_triggers: list[str]


async def case_detail(svc: Service, case_id: str, caller: Caller) -> CaseDetail:
    """A case, its audit trail, and the triggers the caller's roles may fire from its state."""
    async with svc.pool.acquire() as conn:
        case = await access.readable_case(conn, caller, case_id)
        workflow = await svc.registry.get(conn, case.definition, case.definition_version)
        trail = await repository.history(conn, case_id)
    available = workflow.available(case.state, caller.roles)
    return CaseDetail(case=case, history=trail, available_triggers=available)


async def list_cases(svc: Service, caller: Caller, filters: CaseFilter) -> CasePage:
    """The cases the caller reaches that match `filters`, newest first."""
    if filters.open is not None:
        final = {state for d in svc.registry.definitions().values() for state in d.final}
        filters = msgspec.structs.replace(filters, final=tuple(sorted(final)))
    async with svc.pool.acquire() as conn:
        return await queries.list_cases(conn, reach(caller), filters)


async def org_summary(svc: Service, caller: Caller, org_id: str, year: int) -> CaseSummary:
    """An organisation's cases of `year` by state and their passed deadlines (404 off reach)."""
    async with svc.pool.acquire() as conn:
        await access.require_org_visible(conn, caller, org_id)
        return await queries.summary(conn, org_id, year)


def _stale(current: int | None) -> StaleVersionError:
    return StaleVersionError("the case has moved on since you read it; read it again", current)
