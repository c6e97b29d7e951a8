"""What changes when a cell is judged again: findings to open, reopen, update and resolve.

Pure: it compares what is stored with what the engine now finds, so live evaluation keeps the
invariant "the stored open findings are exactly the violations of the facts as they stand".
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

import msgspec

from services.contracts.findings import Finding, FindingStatus

Key = tuple[str, str, str]


class Stored(msgspec.Struct, frozen=True):
    """A finding as kept, with how many times its status changed."""

    finding: Finding
    revision: int


class Changes(msgspec.Struct, frozen=True):
    """The changes one judgment makes; `opened` covers new and reopened findings."""

    opened: list[tuple[Finding, int]]  # the finding and its new revision
    updated: list[Finding]  # still open, evidence changed: no status change, no message
    resolved: list[tuple[Finding, int]]

    def __bool__(self) -> bool:
        return bool(self.opened or self.updated or self.resolved)


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
        elif kept.finding.status is FindingStatus.resolved:
            opened.append((finding, kept.revision + 1))
        elif kept.finding != finding:
            updated.append(finding)
    resolved = [
        (msgspec.structs.replace(kept.finding, status=FindingStatus.resolved), kept.revision + 1)
        for key, kept in stored.items()
        if kept.finding.status is FindingStatus.open
        and key not in current
        and (rule_ids is None or key[0] in rule_ids)
    ]
    return Changes(opened=opened, updated=updated, resolved=resolved)
