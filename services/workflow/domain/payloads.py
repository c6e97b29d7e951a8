"""Checking a transition request's payload against what its trigger takes (400 when it does not)."""

from __future__ import annotations

import msgspec

from services.workflow.domain.definition import Requirement, Trigger
from services.workflow.domain.fields import Payload
from services.workflow.entrypoints.schemas import TransitionCreate
from services.workflow.errors import PayloadError


def decode_payload(command: TransitionCreate, trigger: Trigger) -> Payload:
    """The request's payload as a strict `Payload`, holding only fields the trigger takes."""
    name = command.trigger
    takes = ", ".join(trigger.payload) or "nothing"
    for field in command.payload:
        if field not in trigger.payload:
            raise PayloadError(
                f"`{name}` takes no payload field `{field}`; it takes {takes}", f"payload.{field}"
            )
    try:
        payload = msgspec.convert(command.payload, Payload)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `")
        field = "payload" + path.rstrip("`").removeprefix("$")
        raise PayloadError(f"{field}: {message}", field) from None
    for field, requirement in trigger.payload.items():
        if requirement == Requirement.required and getattr(payload, field) is None:
            raise PayloadError(f"`{name}` requires payload field `{field}`", f"payload.{field}")
    if trigger.comment_required and not command.comment.strip():
        raise PayloadError(f"`{name}` requires a comment saying why", "comment")
    return payload
