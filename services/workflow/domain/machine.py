"""One shared `transitions.Machine` per definition version, fired on a fresh object per request.

The machine holds no model (`model=None`): adding every case as a model would be slow and leak.
A request builds a `Firing` (case, payload, state), fires the trigger's event on it and reads
the new state. The database's version column, not the machine, guards concurrent changes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from functools import partial
from typing import Any, cast

from transitions import EventData, Machine

from services.workflow.domain.definition import Definition, Role, Trigger
from services.workflow.domain.fields import Payload
from services.workflow.domain.guards import GUARDS, Firing
from services.workflow.domain.loader import Loaded
from services.workflow.domain.model import Case
from services.workflow.errors import GuardRefusedError, NotFromStateError, UnknownTriggerError


def _check(name: str, event: EventData) -> bool:
    firing = cast(Firing, event.model)
    reason = GUARDS[name](firing)
    if reason is not None:
        firing.refusals.append((name, reason))
    return reason is None


class Workflow:
    """A compiled definition version: its states as a StrEnum and its shared machine."""

    def __init__(self, loaded: Loaded) -> None:
        self.definition: Definition = loaded.definition
        self.version = loaded.version
        self.source, self.file = loaded.source, loaded.file
        d = self.definition
        self.states: type[enum.StrEnum] = enum.StrEnum(  # type: ignore[misc]
            f"{d.name.title()}State", [(s, s) for s in d.states]
        )
        table: list[dict[str, Any]] = []
        for trigger_name, trigger in d.triggers.items():
            for move in trigger.transitions:
                for source in move.source:
                    table.append(
                        {
                            "trigger": trigger_name,
                            "source": self.states(source),
                            "dest": self.states(move.to or source),
                            "conditions": [partial(_check, g) for g in move.guards],
                        }
                    )
        self.machine = Machine(
            model=None,
            states=list(self.states),
            initial=self.states(d.initial),
            transitions=table,
            auto_transitions=False,
            send_event=True,
        )

    def trigger(self, name: str) -> Trigger:
        """The trigger called `name`, or UnknownTriggerError naming those that exist."""
        found = self.definition.triggers.get(name)
        if found is None:
            known = ", ".join(self.definition.triggers)
            raise UnknownTriggerError(f"no trigger `{name}` in `{self.definition.name}`: {known}")
        return found

    def sources(self, name: str) -> list[str]:
        """The states trigger `name` fires from."""
        return [s for move in self.trigger(name).transitions for s in move.source]

    def available(self, state: str, roles: Iterable[Role]) -> list[str]:
        """The triggers any of `roles` may fire from `state` (guards aside: they need payloads)."""
        held = set(roles)
        return [
            name
            for name, trigger in self.definition.triggers.items()
            if held.intersection(trigger.roles) and state in self.sources(name)
        ]

    def fire(self, case: Case, name: str, payload: Payload) -> str:
        """Fire trigger `name` on `case` and return the state it moves to; the case is untouched.

        Raises NotFromStateError when the trigger does not fire from the case's state, and
        GuardRefusedError, naming every guard that refused and why, when no transition is taken.
        """
        if case.state not in self.sources(name):
            raise NotFromStateError(
                f"`{name}` fires from {', '.join(self.sources(name))}; the case is `{case.state}`",
            )
        firing = Firing(
            state=self.states(case.state), case=case, payload=payload, definition=self.definition
        )
        if not self.machine.events[name].trigger(firing):
            refusals = [{"guard": g, "reason": r} for g, r in firing.refusals]
            reasons = "; ".join(f"{g}: {r}" for g, r in firing.refusals)
            raise GuardRefusedError(f"`{name}` refused by guards: {reasons}", refusals)
        return str(firing.state)

    def mermaid(self) -> str:
        """The definition as a Mermaid state diagram."""
        d = self.definition
        lines = ["stateDiagram-v2", f"    [*] --> {d.initial}"]
        for name, trigger in d.triggers.items():
            for move in trigger.transitions:
                guards = f" [{', '.join(move.guards)}]" if move.guards else ""
                for source in move.source:
                    lines.append(f"    {source} --> {move.to or source}: {name}{guards}")
        lines += [f"    {state} --> [*]" for state in d.final]
        return "\n".join(lines) + "\n"
