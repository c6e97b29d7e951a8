"""What a definition asks of people, described for a form: each state and trigger with its words,
and each payload field a trigger takes with its type, whether it is required, its bounds and
its label — so a page can draw the form without knowing the catalogue.

The types come from the payload catalogue itself (`fields.Payload`, read through
`msgspec.inspect`), the labels from the definition's `labels`; nothing here is written twice.
"""

from __future__ import annotations

import enum
from typing import Literal

import msgspec
import msgspec.inspect as mi

from services.contracts.roles import Role
from services.contracts.wording import Words
from services.workflow.domain.definition import Definition, Requirement, Trigger
from services.workflow.domain.fields import FindingRef, Payload

FieldType = Literal["text", "long_text", "date", "integer", "choice", "list", "findings"]
LONG_TEXT = 200
"""Text longer than this is written in a text area rather than a one-line input."""


class Choice(msgspec.Struct, frozen=True, kw_only=True):
    """One value a choice field may take, and what people read for it."""

    value: str
    title: Words


class FieldSpec(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One field of a form. `list` fields repeat their `items`; `findings` pick among the
    case's findings; `integer` has `minimum`/`maximum`; text has `max_length`."""

    name: str
    type: FieldType
    required: bool
    title: Words
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    default: str | int | None = None
    choices: list[Choice] = []
    items: list[FieldSpec] = []


class Move(msgspec.Struct, frozen=True, kw_only=True):
    """A transition: from a state to another (the same one for a trigger that only records)."""

    source: str
    to: str
    guards: list[str]


class TriggerSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A trigger as people meet it: its words, who fires it, what it asks, where it moves."""

    name: str
    title: Words
    roles: list[Role]
    comment_required: bool
    fields: list[FieldSpec]
    moves: list[Move]


class StateSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A state and its words; `initial` and `final` as the definition says."""

    name: str
    title: Words
    initial: bool
    final: bool


def words(title: str, fallback: str) -> Words:
    """A "Vietnamese — English" title as words; one without the dash reads the same in both."""
    vi, dash, en = (title or fallback).partition(" — ")
    return Words(vi.strip(), en.strip() if dash else vi.strip())


def states(d: Definition) -> list[StateSpec]:
    """Every state of `d`, in the order the definition lists them."""
    return [
        StateSpec(
            name=name,
            title=words(d.labels.states.get(name, ""), name.replace("_", " ")),
            initial=name == d.initial,
            final=name in d.final,
        )
        for name in d.states
    ]


def triggers(d: Definition) -> list[TriggerSpec]:
    """Every trigger of `d` with the fields of its form."""
    return [_trigger(d, name, trigger) for name, trigger in d.triggers.items()]


def _trigger(d: Definition, name: str, trigger: Trigger) -> TriggerSpec:
    return TriggerSpec(
        name=name,
        title=words(trigger.title, name.replace("_", " ")),
        roles=list(trigger.roles),
        comment_required=trigger.comment_required,
        fields=[
            _field(d, field, _PAYLOAD[field], requirement == Requirement.required)
            for field, requirement in trigger.payload.items()
        ],
        moves=[
            Move(source=source, to=move.to or source, guards=list(move.guards))
            for move in trigger.transitions
            for source in move.source
        ],
    )


_PAYLOAD: dict[str, mi.Type] = {
    f.name: next(t for t in f.type.types if not isinstance(t, mi.NoneType))
    for f in mi.type_info(Payload).fields  # type: ignore[attr-defined]
}


def _label_keys(prefix: str, kind: mi.Type) -> set[str]:
    if isinstance(kind, mi.EnumType):
        return {f"{prefix}.{member.value}" for member in kind.cls}
    if isinstance(kind, mi.ListType) and isinstance(kind.item_type, mi.StructType):
        if kind.item_type.cls is FindingRef:
            return set()
        return {
            key
            for f in kind.item_type.fields
            for key in {f"{prefix}.{f.name}"} | _label_keys(f"{prefix}.{f.name}", f.type)
        }
    return set()


LABEL_KEYS = frozenset(_PAYLOAD) | frozenset(
    key for name, kind in _PAYLOAD.items() for key in _label_keys(name, kind)
)
"""Every name a definition's `labels.fields` may give words to."""


def _field(
    d: Definition, key: str, kind: mi.Type, required: bool, default: object = None
) -> FieldSpec:
    name = key.rpartition(".")[2]
    title = words(d.labels.fields.get(key, ""), name.replace("_", " "))
    if isinstance(default, enum.Enum):
        default = default.value
    base = {
        "name": name,
        "required": required,
        "title": title,
        "default": default if isinstance(default, str | int) and default != "" else None,
    }
    if isinstance(kind, mi.StrType):
        text: FieldType = "long_text" if (kind.max_length or 0) > LONG_TEXT else "text"
        return FieldSpec(type=text, max_length=kind.max_length, **base)  # type: ignore[arg-type]
    if isinstance(kind, mi.DateType):
        return FieldSpec(type="date", **base)  # type: ignore[arg-type]
    if isinstance(kind, mi.IntType):
        return FieldSpec(type="integer", minimum=kind.ge, maximum=kind.le, **base)  # type: ignore[arg-type]
    if isinstance(kind, mi.EnumType):
        return FieldSpec(type="choice", choices=_choices(d, key, kind.cls), **base)  # type: ignore[arg-type]
    if isinstance(kind, mi.ListType) and isinstance(kind.item_type, mi.StructType):
        if kind.item_type.cls is FindingRef:
            return FieldSpec(type="findings", max_items=kind.max_length, **base)  # type: ignore[arg-type]
        items = [
            _field(d, f"{key}.{f.name}", f.type, f.required, f.default)
            for f in kind.item_type.fields
        ]
        return FieldSpec(
            type="list",
            min_items=kind.min_length,
            max_items=kind.max_length,
            items=items,
            **base,  # type: ignore[arg-type]
        )
    raise TypeError(f"payload field `{key}` has a type no form can hold: {kind}")


def _choices(d: Definition, key: str, cls: type[enum.Enum]) -> list[Choice]:
    return [
        Choice(
            value=str(member.value),
            title=words(d.labels.fields.get(f"{key}.{member.value}", ""), str(member.value)),
        )
        for member in cls
    ]
