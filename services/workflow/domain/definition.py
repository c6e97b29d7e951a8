"""The workflow definition file format: strict Structs that `msgspec` decodes YAML into.

One file per definition, its stem equal to `name` (rules/workflows/README.md is the authors'
guide); `machine` checks what msgspec cannot and compiles it.
"""

from __future__ import annotations

import enum
from typing import Annotated

import msgspec

from services.contracts.roles import Role

Name = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Days = Annotated[int, msgspec.Meta(ge=1, le=3660)]


class Requirement(enum.StrEnum):
    """Whether a trigger needs a payload field or merely accepts it."""

    required = "required"
    optional = "optional"


class Move(msgspec.Struct, forbid_unknown_fields=True, frozen=True, rename={"source": "from"}):
    """One row of the transition table: from these states to one state, if every guard agrees.

    Without `to` the case stays in its state (a trigger that only records data). When a trigger
    has several moves from a state, the first whose guards all agree is taken.
    """

    source: Annotated[list[Name], msgspec.Meta(min_length=1)]
    to: Name | None = None
    # Any text here: `machine.check` holds each against the allow-list and says where it is wrong.
    guards: list[Annotated[str, msgspec.Meta(min_length=1, max_length=200)]] = []


class Trigger(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A trigger: who may fire it, what payload it takes and where it moves the case."""

    roles: Annotated[list[Role], msgspec.Meta(min_length=1)]  # some of CASE_ROLES
    transitions: Annotated[list[Move], msgspec.Meta(min_length=1)]
    payload: dict[Name, Requirement] = {}
    comment_required: bool = False
    title: str = ""


class InspectionDeadline(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The inspection's length, counted from the payload's `started_on`, and its extension."""

    days: Days
    max_extension_days: Annotated[int, msgspec.Meta(ge=0, le=3660)]
    while_in: Annotated[list[Name], msgspec.Meta(min_length=1)]


class RemediationDeadline(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The remediation due date, set by the conclusion's `remediation_due`."""

    while_in: Annotated[list[Name], msgspec.Meta(min_length=1)]


class Deadlines(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The deadlines that raise escalation events when passed."""

    inspection: InspectionDeadline | None = None
    remediation: RemediationDeadline | None = None


LabelKey = Annotated[
    str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}(\.[a-z][a-z0-9_]{0,63}){0,2}$")
]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Labels(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """What people read for the states and the payload fields, each "Vietnamese — English".

    A field of a list's items is named `list.item` (`team.name`); a name without a label is shown
    as it is spelled.
    """

    states: dict[Name, Title] = {}
    fields: dict[LabelKey, Title] = {}


class Definition(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A whole workflow definition file."""

    name: Name
    title: str
    initial: Name
    states: Annotated[list[Name], msgspec.Meta(min_length=1)]
    final: list[Name]
    triggers: dict[Name, Trigger]
    deadlines: Deadlines = Deadlines()
    labels: Labels = msgspec.field(default_factory=Labels)
