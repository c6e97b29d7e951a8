"""Findings: what the rules service concludes about a cell, shared with the workflow service.

A finding's identity is `(rule_id, cell_id, scope)`. New fields get defaults; existing field
types never change (msgspec's schema-evolution rule). Readers ignore fields they do not know, so a
newer rules service never stops an older consumer.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated

import msgspec

Evidence = int | float | str | list[int]
"""An observed value: a count, a ratio, a number of days, or the topic groups seen."""


MAX_MEETING_IDS = 100
"""How many meeting ids a finding lists at most."""


class FindingStatus(enum.StrEnum):
    """`open`: the scope was judged and violated; `resolved`: judged and no longer violated."""

    open = "open"
    resolved = "resolved"


class Severity(enum.StrEnum):
    """How serious a violation of the rule is."""

    minor = "minor"
    major = "major"
    critical = "critical"


class Mode(enum.StrEnum):
    """`enforce` counts toward scores and cases; `shadow` is reported only, to try a rule out."""

    enforce = "enforce"
    shadow = "shadow"


class Text(msgspec.Struct, frozen=True):
    """The same text in Vietnamese and English."""

    vi: Annotated[str, msgspec.Meta(min_length=1)]
    en: Annotated[str, msgspec.Meta(min_length=1)]


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One judgment of one rule on one cell over one scope, with its evidence."""

    rule_id: str
    cell_id: str
    scope: str
    status: FindingStatus
    severity: Severity
    mode: Mode
    period_start: date
    period_end: date
    observed: Evidence
    expected: str
    # The meetings behind the verdict, in order held: the first MAX_MEETING_IDS of them, so a
    # finding stays small however long the history; `meeting_count` says how many there are.
    meeting_ids: list[str]
    rule_version: str
    message: Text
    # How many times the finding's status changed, as published: a consumer keeps the highest,
    # since messages of different revisions may arrive out of order. 0 for a fresh judgment.
    revision: int = 0
    # How many meetings are behind the verdict (None from writers that listed them all).
    meeting_count: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """The finding's identity: rule, cell and scope."""
        return self.rule_id, self.cell_id, self.scope
