"""What changes when a cell is judged again: findings to open, reopen, update and resolve.

Pure: it compares what is stored with what the engine now finds, so live evaluation keeps the
invariant "the stored open findings are exactly the violations of the facts as they stand".
What is stored is compared through a digest of the evidence, so a judgment never needs to read
back whole findings to know whether anything changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from datetime import date

import msgspec

from services.contracts.findings import Finding, FindingStatus

Key = tuple[str, str, str]
_encoder = msgspec.json.Encoder()


class Stored(msgspec.Struct, frozen=True, array_like=True):
    """What a judgment needs of a kept finding: status, revision, evidence digest, period."""

    status: FindingStatus
    revision: int
    digest: str
    period_start: date
    period_end: date


class Changes(msgspec.Struct, frozen=True):
    """The changes one judgment makes; `opened` covers new and reopened findings."""

    opened: list[tuple[Finding, int]]  # the finding and its new revision
    updated: list[Finding]  # still open, evidence changed: no status change, no message
    resolved: list[tuple[Key, int]]  # no longer violated, and the new revision

    def __bool__(self) -> bool:
        return bool(self.opened or self.updated or self.resolved)


def digest(finding: Finding) -> str:
    """A short fingerprint of everything a finding says besides its identity and status."""
    evidence: tuple[object, ...] = (
        finding.severity, finding.mode, finding.period_start, finding.period_end,
        finding.observed, finding.expected, finding.meeting_ids, finding.rule_version,
        finding.message,
    )  # fmt: skip
    if finding.meeting_count not in (None, len(finding.meeting_ids)):
        # Only where the list is cut: the digests of findings stored before the cut stay valid.
        evidence += (finding.meeting_count,)
    return hashlib.blake2b(_encoder.encode(evidence), digest_size=12).hexdigest()


def reconcile(
    stored: Mapping[Key, Stored],
    violations: Iterable[Finding],
    rule_ids: Collection[str] | None = None,
) -> Changes:
    """Compare stored findings of the judged cells with their current violations.

    Only stored findings of `rule_ids` are in question (all of them when None, which also
    resolves findings of rules no longer in the pack).
    """
    current = {f.key: f for f in violations}
    opened: list[tuple[Finding, int]] = []
    updated: list[Finding] = []
    for key, finding in current.items():
        kept = stored.get(key)
        if kept is None:
            opened.append((finding, 1))
        elif kept.status is FindingStatus.resolved:
            opened.append((finding, kept.revision + 1))
        elif kept.digest != digest(finding):
            updated.append(finding)
    resolved = [
        (key, kept.revision + 1)
        for key, kept in stored.items()
        if kept.status is FindingStatus.open
        and key not in current
        and (rule_ids is None or key[0] in rule_ids)
    ]
    return Changes(opened=opened, updated=updated, resolved=resolved)
