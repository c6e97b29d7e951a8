"""SQL for findings: what is stored per cell, and writing a judgment's changes with messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
import msgspec

from services.contracts.findings import Finding, FindingStatus, Mode, Severity, Text
from services.contracts.subjects import findings_subject
from services.infra import outbox
from services.infra.database import Connection
from services.rules.engine.reconcile import Changes, Key, Stored

SCHEMA = "rules"
COLUMNS = (
    "rule_id, cell_id, scope, status, severity, mode, period_start, period_end, observed,"
    " expected, meeting_ids, rule_version, message_vi, message_en"
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
    )


async def stored_for(conn: Connection, cell_ids: Sequence[str]) -> dict[Key, Stored]:
    """Every finding kept for `cell_ids`, open or resolved."""
    rows = await conn.fetch(
        f"select {COLUMNS}, revision from rules.findings where cell_id = any($1::text[])",
        list(cell_ids),
    )
    return {
        (r["rule_id"], r["cell_id"], r["scope"]): Stored(finding_of(r), r["revision"]) for r in rows
    }


def _values(f: Finding) -> tuple[object, ...]:
    return (
        f.rule_id, f.cell_id, f.scope, f.status.value, f.severity.value, f.mode.value,
        f.period_start, f.period_end, _encoder.encode(f.observed).decode(), f.expected,
        f.meeting_ids, f.rule_version, f.message.vi, f.message.en,
    )  # fmt: skip


_OPEN = f"""
insert into rules.findings ({COLUMNS}, pack_version, opened_at, changed_at, revision)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17)
on conflict (rule_id, cell_id, scope) do update set
    status = excluded.status, severity = excluded.severity, mode = excluded.mode,
    period_start = excluded.period_start, period_end = excluded.period_end,
    observed = excluded.observed, expected = excluded.expected,
    meeting_ids = excluded.meeting_ids, rule_version = excluded.rule_version,
    message_vi = excluded.message_vi, message_en = excluded.message_en,
    pack_version = excluded.pack_version, opened_at = excluded.opened_at,
    resolved_at = null, changed_at = excluded.changed_at, revision = excluded.revision
"""
_UPDATE = """
update rules.findings set observed = $4, expected = $5, meeting_ids = $6, rule_version = $7,
    message_vi = $8, message_en = $9, severity = $10, mode = $11, pack_version = $12,
    changed_at = $13
where rule_id = $1 and cell_id = $2 and scope = $3
"""
_RESOLVE = """
update rules.findings set status = 'resolved', resolved_at = $4, changed_at = $4,
    revision = $5, pack_version = $6
where rule_id = $1 and cell_id = $2 and scope = $3
"""


async def write(conn: Connection, changes: Changes, pack_version: str, now: datetime) -> int:
    """Store `changes` and enqueue one message per status change; return how many."""
    if changes.opened:
        await conn.executemany(
            _OPEN, [(*_values(f), pack_version, now, rev) for f, rev in changes.opened]
        )
    if changes.updated:
        await conn.executemany(
            _UPDATE,
            [
                (f.rule_id, f.cell_id, f.scope, _encoder.encode(f.observed).decode(), f.expected,
                 f.meeting_ids, f.rule_version, f.message.vi, f.message.en, f.severity.value,
                 f.mode.value, pack_version, now)
                for f in changes.updated
            ],
        )  # fmt: skip
    if changes.resolved:
        await conn.executemany(
            _RESOLVE,
            [
                (f.rule_id, f.cell_id, f.scope, now, rev, pack_version)
                for f, rev in changes.resolved
            ],
        )
    messages = [_message(f, rev) for f, rev in (*changes.opened, *changes.resolved)]
    await outbox.enqueue(conn, SCHEMA, messages)
    return len(messages)


def _message(finding: Finding, revision: int) -> outbox.Message:
    rule_id, cell_id, scope = finding.key
    return outbox.Message(
        subject=findings_subject(finding.status),
        # The identity plus the revision names this change forever: redelivery-safe.
        msg_id=f"finding:{rule_id}:{cell_id}:{scope}:r{revision}",
        payload=_encoder.encode(finding),
        headers={"Chibo-Finding-Revision": str(revision)},
    )
