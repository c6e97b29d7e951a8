"""`POST /events`: events from source systems without NATS."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post

from services.contracts.roles import Role
from services.infra.auth.claims import Claims
from services.infra.auth.http import ClaimsDep, allow
from services.infra.problems import problem_responses
from services.rules.domain.authority import WriteScope
from services.rules.entrypoints.deps import JudgeDep, Nats, Pool, SettingsDep
from services.rules.service import ingest
from services.rules.service.ingest import IngestReport


@post(
    "/events",
    tags=["events"],
    summary="Publish one CloudEvent or a JSON array of them",
    status_code=202,
    guards=[allow(Role.source, Role.admin, Role.inspector)],
    responses=problem_responses(422),
)
async def post_events(
    request: Request[Any, Any, Any],
    pool: Pool,
    judge: JudgeDep,
    settings: SettingsDep,
    nats: Nats,
    claims: ClaimsDep,
) -> Response[IngestReport]:
    """Store the valid events of the body; refuse the invalid ones naming each event and field.

    The body is one CloudEvent (event contract v1) or a JSON array of at most
    `CHIBO_RULES_MAX_BATCH_EVENTS` of them, within `CHIBO_RULES_MAX_BODY_BYTES`, each within
    what the NATS server carries in one message (it is published there too). All valid: 202
    with the accepted ids and the ids received before. Some invalid: 422 problem details listing
    them under `errors`, while the valid ones are still stored and listed under `accepted`.
    A token naming an org writes only for that org's subtree, one naming a cell only for that
    cell: the other events answer 403, listed the same way, the rest stored. An inspector (a
    commune bringing in its history from a spreadsheet, say) writes for their org's subtree.
    """
    report = await ingest.accept(
        pool,
        judge,
        await request.body(),
        max_events=settings.max_batch_events,
        max_payload=nats.max_payload,
        scope=_scope(claims),
    )
    return Response(report, status_code=202)


def _scope(claims: Claims) -> WriteScope | None:
    """Where the caller may write: None for admins and for sources trusted with every org."""
    if claims.sees_all:
        return None
    if not claims.has(Role.source):  # an inspector: their token always names their org
        return WriteScope(org=claims.org, cell=None)
    if claims.org is None and claims.cell is None:
        return None
    return WriteScope(org=claims.org, cell=claims.cell)
