"""`/rules`: the pack in force, and its reload."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import get, post

from services.contracts.findings import Mode, Severity
from services.contracts.roles import Role
from services.infra.auth.http import EVERYONE_BUT_SOURCES, ClaimsDep, allow
from services.infra.problems import problem_responses
from services.rules.adapters.reloads import LastReload
from services.rules.entrypoints.deps import (
    JudgeDep,
    ReloaderDep,
)
from services.rules.service.reload import ReloadOutcome


class RuleInForce(msgspec.Struct):
    """One rule of the pack in force."""

    rule_id: str
    version: str
    title_vi: str
    title_en: str
    basis: str
    severity: Severity
    mode: Mode
    weight: int


class PackInForce(msgspec.Struct):
    """The pack in force: its content hash, when it was loaded, its rules, and the last reload
    on any replica (None before the first): when, by whom, what it came to."""

    version: str
    loaded_at: datetime
    directory: str
    rules: list[RuleInForce]
    last_reload: LastReload | None = None


@get(
    "/rules",
    tags=["rules"],
    summary="The rule pack in force",
    guards=[allow(*EVERYONE_BUT_SOURCES)],
)
async def rules_in_force(judge: JudgeDep, reloader: ReloaderDep) -> PackInForce:
    """Version (content hash), load time and rules of the pack the service judges with, and
    the last reload's outcome."""
    pack = judge.pack
    rules = [
        RuleInForce(
            r.id, r.version, r.title.vi, r.title.en, r.rule.basis,
            r.severity, r.mode, r.rule.weight,
        )
        for r in pack.rules
    ]  # fmt: skip
    last = await reloader.last()
    return PackInForce(pack.version, judge.loaded_at, str(pack.directory), rules, last)


@post(
    "/rules/reload",
    tags=["rules"],
    summary="Load the rules folder again",
    status_code=200,
    guards=[allow(Role.rule_author, Role.admin)],
    responses=problem_responses(422),
)
async def reload_rules(reloader: ReloaderDep, claims: ClaimsDep) -> ReloadOutcome:
    """Validate the folder's whole pack and put it in force; an invalid pack is refused (422).
    Either way it is kept as the last reload, with the caller's name."""
    return await reloader.reload(actor=claims.sub)
