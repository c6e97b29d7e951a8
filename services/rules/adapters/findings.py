"""Findings in PostgreSQL: what is stored per cell, writing a judgment's changes with the messages
announcing them, and the record of the last complete judgment of every cell."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

import asyncpg
import msgspec

from services.contracts.findings import Finding, FindingStatus, Mode, Severity, Text
from services.contracts.subjects import findings_subject
from services.infra import outbox
from services.infra.database import Connection
from services.rules.domain.reconcile import Changes, Key, Stored, digest

SCHEMA = "rules"
COLUMNS = (
    "rule_id, cell_id, scope, status, severity, mode, period_start, period_end, observed,"
    " expected, meeting_ids, meeting_count, rule_version, message_vi, message_en"
)
_encoder = msgspec.json.Encoder()


def finding_of(row: asyncpg.Record) -> Finding:
    """The wire form of a stored finding row."""
    return Finding(
        rule_id=row["rule_id"],
        cell_id=row["cell_id"],
        scope=row["scope"],
        status=FindingStatus(row["status"]),
        severity=Severity(row["severity"]),
        mode=Mode(row["mode"]),
        period_start=row["period_start"],
        period_end=row["period_end"],
        observed=msgspec.json.decode(row["observed"]),
        expected=row["expected"],
        meeting_ids=list(row["meeting_ids"]),
        rule_version=row["rule_version"],
        message=Text(vi=row["message_vi"], en=row["message_en"]),
        revision=row["revision"],
        meeting_count=row["meeting_count"],
    )


async def stored_for(conn: Connection, cell_ids: Sequence[str]) -> dict[Key, Stored]:
    """What is kept of every finding of `cell_ids`, open or resolved."""
    rows = await conn.fetch(
        "select rule_id, cell_id, scope, status, revision, digest, period_start, period_end"
        " from rules.findings where cell_id = any($1::text[])",
        list(cell_ids),
    )
    return {(r[0], r[1], r[2]): Stored(FindingStatus(r[3]), r[4], r[5], r[6], r[7]) for r in rows}


def _rows(findings: Iterable[Finding]) -> str:
    """Findings as one JSON array for `jsonb_to_recordset`: one statement writes them all."""
    return _encoder.encode(
        [
            {
                "rule_id": f.rule_id, "cell_id": f.cell_id, "scope": f.scope,
                "severity": f.severity, "mode": f.mode,
                "period_start": f.period_start, "period_end": f.period_end,
                "observed": f.observed, "expected": f.expected, "meeting_ids": f.meeting_ids,
                "meeting_count": f.meeting_count, "rule_version": f.rule_version,
                "message_vi": f.message.vi, "message_en": f.message.en, "digest": digest(f),
            }
            for f in findings
        ]
    ).decode()  # fmt: skip


_RECORD = """jsonb_to_recordset($1::jsonb) as r(rule_id text, cell_id text, scope text,
    severity text, mode text, period_start date, period_end date, observed jsonb,
    expected text, meeting_ids text[], meeting_count integer, rule_version text,
    message_vi text, message_en text, digest text)"""
# Opened findings arrive as the messages announcing them (one JSON array of findings as
# published, `$1`) beside their digests (`$4`): each is encoded once, for both.
_OPEN = f"""
insert into rules.findings ({COLUMNS}, pack_version, opened_at, changed_at, revision, digest)
select rule_id, cell_id, scope, status, severity, mode, period_start, period_end, observed,
    expected, meeting_ids, meeting_count, rule_version, message->>'vi', message->>'en', $2, $3,
    $3, revision, digest
from rows from (jsonb_to_recordset($1::jsonb) as (rule_id text, cell_id text, scope text,
    status text, severity text, mode text, period_start date, period_end date, observed jsonb,
    expected text, meeting_ids text[], meeting_count integer, rule_version text,
    message jsonb, revision integer),
    unnest($4::text[])) as r(rule_id, cell_id, scope, status, severity, mode, period_start,
    period_end, observed, expected, meeting_ids, meeting_count, rule_version, message,
    revision, digest)
on conflict (rule_id, cell_id, scope) do update set
    status = excluded.status, severity = excluded.severity, mode = excluded.mode,
    period_start = excluded.period_start, period_end = excluded.period_end,
    observed = excluded.observed, expected = excluded.expected,
    meeting_ids = excluded.meeting_ids, meeting_count = excluded.meeting_count,
    rule_version = excluded.rule_version, message_vi = excluded.message_vi,
    message_en = excluded.message_en,
    pack_version = excluded.pack_version, opened_at = excluded.opened_at,
    resolved_at = null, changed_at = excluded.changed_at, revision = excluded.revision,
    digest = excluded.digest
"""
_UPDATE = f"""
update rules.findings f set observed = r.observed, expected = r.expected,
    period_start = r.period_start, period_end = r.period_end,
    meeting_ids = r.meeting_ids, meeting_count = r.meeting_count,
    rule_version = r.rule_version, message_vi = r.message_vi,
    message_en = r.message_en, severity = r.severity, mode = r.mode, pack_version = $2,
    changed_at = $3, digest = r.digest
from {_RECORD}
where f.rule_id = r.rule_id and f.cell_id = r.cell_id and f.scope = r.scope
"""


class _Resolved(msgspec.Struct, frozen=True):
    """A finding to resolve, and the revision its resolution gets: one row of `_RESOLVE`."""

    rule_id: str
    cell_id: str
    scope: str
    revision: int


# Returns the resolved findings whole: their messages carry what was found, now resolved.
_RESOLVE = f"""
update rules.findings f set status = 'resolved', resolved_at = $3, changed_at = $3,
    revision = r.revision, pack_version = $2
from jsonb_to_recordset($1::jsonb) as r(rule_id text, cell_id text, scope text, revision integer)
where f.rule_id = r.rule_id and f.cell_id = r.cell_id and f.scope = r.scope
returning {", ".join("f." + c.strip() for c in COLUMNS.split(","))}, f.revision
"""


async def write(conn: Connection, changes: Changes, pack_version: str, now: datetime) -> int:
    """Store `changes` and enqueue one message per status change; return how many."""
    messages: list[outbox.Message] = []
    if changes.opened:
        messages = [_message(f, revision) for f, revision in changes.opened]
        published = b"[" + b",".join(m.payload for m in messages) + b"]"
        digests = [digest(f) for f, _ in changes.opened]
        await conn.execute(_OPEN, published.decode(), pack_version, now, digests)
    if changes.updated:
        # Same status, new evidence: the revision (counting status changes) stays as stored.
        unchanged = _rows(changes.updated)
        await conn.execute(_UPDATE, unchanged, pack_version, now)
    if changes.resolved:
        keys = [_Resolved(r, c, s, revision) for (r, c, s), revision in changes.resolved]
        rows = await conn.fetch(_RESOLVE, _encoder.encode(keys).decode(), pack_version, now)
        messages += [_message(finding_of(row), row["revision"]) for row in rows]
    await outbox.enqueue(conn, SCHEMA, messages)
    return len(messages)


def _message(finding: Finding, revision: int) -> outbox.Message:
    rule_id, cell_id, scope = finding.key
    return outbox.Message(
        subject=findings_subject(finding.status),
        # The identity plus the revision names this change forever: redelivery-safe.
        msg_id=f"finding:{rule_id}:{cell_id}:{scope}:r{revision}",
        payload=_encoder.encode(msgspec.structs.replace(finding, revision=revision)),
    )


class JudgedState(msgspec.Struct, frozen=True):
    """The last complete judgment of every cell: its horizon and each rule's version then."""

    horizon: date
    rules: dict[str, str]


async def judged_state(conn: Connection) -> JudgedState | None:
    """What every cell was last judged with as a whole, if anything."""
    row = await conn.fetchrow("select horizon, rules::text from rules.evaluation_state")
    if row is None:
        return None
    return JudgedState(row["horizon"], msgspec.json.decode(row["rules"]))


async def record_judged(
    conn: Connection, state: JudgedState, pack_version: str, at: datetime
) -> None:
    """Record that every cell has been judged at `state`."""
    await conn.execute(
        "insert into rules.evaluation_state (horizon, pack_version, rules, judged_at)"
        " values ($1, $2, $3, $4) on conflict (singleton) do update set"
        " horizon = excluded.horizon, pack_version = excluded.pack_version,"
        " rules = excluded.rules, judged_at = excluded.judged_at",
        state.horizon,
        pack_version,
        _encoder.encode(state.rules).decode(),
        at,
    )


async def forget_judged(conn: Connection) -> None:
    """Forget the last complete judgment, so that every cell is judged again at the next pass."""
    await conn.execute("delete from rules.evaluation_state")
