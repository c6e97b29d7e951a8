"""A rule compiled at load: its expressions turned into callables and its judge chosen."""

from __future__ import annotations

import ast
import math
import string
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from services.contracts.events import CellRegistered
from services.contracts.findings import Evidence, Finding, FindingStatus, Text
from services.rules.domain import judge_meetings, judge_members, judge_periods
from services.rules.domain.expressions import ExpressionError, Getter, Name, compile_expression
from services.rules.domain.facts import CELL_NAMES, MEETING_NAMES, MeetingFact
from services.rules.domain.model import (
    CountCheck,
    CoverageCheck,
    GapCheck,
    MeetingCheck,
    MemberCheck,
    Rule,
)
from services.rules.domain.view import CellView

Judge = Callable[["CompiledRule", CellView, bool], Iterator[Finding]]

_COMMON = {"cell", "period", "observed", "expected"}
PLACEHOLDERS: dict[type, frozenset[str]] = {
    CountCheck: frozenset(_COMMON),
    CoverageCheck: frozenset(_COMMON),
    MeetingCheck: frozenset(_COMMON | {"meeting", "date"}),
    GapCheck: frozenset(_COMMON | {"since", "until", "days"}),
    MemberCheck: frozenset(_COMMON | {"member", "year"}),
}
"""The `{names}` a message may use, by check kind."""


class CompileError(ValueError):
    """A rule that decodes but cannot be compiled; `path` is the JSON path of the bad field."""

    def __init__(self, path: str, message: str, offset: int = 0) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.message, self.offset = path, message, offset


class CompiledRule:
    """A rule ready to judge cells; built once at load and shared by every evaluation."""

    def __init__(self, rule: Rule, version: str) -> None:
        self.rule, self.version = rule, version
        self.id, self.severity, self.mode = rule.id, rule.severity, rule.mode
        self.dated = rule.effective_from is not None or rule.effective_until is not None
        applies = rule.applies_to
        self.applies: Getter = (
            _expression("$.applies_to", applies, CELL_NAMES) if applies else lambda _cell: True
        )
        _check_placeholders(rule)
        self.judge: Judge = _judge(rule)

    def applies_to(self, cell: CellRegistered) -> bool:
        """Whether the rule judges `cell` at all."""
        return bool(self.applies(cell))

    def in_force(self, day: date) -> bool:
        """Whether the rule was in force on `day` (its effective dates)."""
        start, until = self.rule.effective_from, self.rule.effective_until
        return (start is None or day >= start) and (until is None or day < until)

    def in_force_meetings(self, meetings: list[MeetingFact]) -> list[MeetingFact]:
        """The meetings held while the rule was in force (all of them for an undated rule)."""
        if not self.dated:  # the common case costs nothing per meeting
            return meetings
        return [m for m in meetings if self.in_force(m.day)]

    def finding(
        self,
        view: CellView,
        scope: str,
        violated: bool,
        span: tuple[date, date],
        observed: Evidence,
        expected: str,
        meeting_ids: list[str],
        **values: Any,
    ) -> Finding:
        """A finding of this rule, its message filled with the evidence."""
        cell_id = view.cell.cell_id
        if isinstance(observed, float) and not math.isfinite(observed):
            observed = str(observed)  # JSON has no infinity; "inf" still reads as what it is
        values.update(cell=cell_id, observed=observed, expected=expected)
        values.setdefault("period", scope)
        message = self.rule.message
        return Finding(
            rule_id=self.id,
            cell_id=cell_id,
            scope=scope,
            status=FindingStatus.open if violated else FindingStatus.resolved,
            severity=self.severity,
            mode=self.mode,
            period_start=span[0],
            period_end=span[1],
            observed=observed,
            expected=expected,
            meeting_ids=meeting_ids,
            rule_version=self.version,
            message=Text(
                vi=message.vi.format_map({k: _vietnamese(v) for k, v in values.items()}),
                en=message.en.format_map(values),
            ),
        )


def _vietnamese(value: Any) -> Any:
    # Vietnamese writes a decimal comma: "0,8333", as the rule texts themselves write "0,85".
    return str(value).replace(".", ",") if isinstance(value, float) else value


def meeting_expression(path: str, text: str) -> tuple[str, Getter]:
    """A meeting predicate compiled, with a key that is equal for equal predicates."""
    test = _expression(path, text, MEETING_NAMES)
    return ast.dump(ast.parse(text.strip(), mode="eval")), test


def _expression(path: str, text: str, names: dict[str, Name]) -> Getter:
    try:
        return compile_expression(text, names)
    except ExpressionError as exc:
        raise CompileError(path, exc.message, exc.offset) from None


def _judge(rule: Rule) -> Judge:
    meetings = meeting_expression("$.check.meetings", rule.check.meetings)
    match rule.check:
        case CountCheck() | CoverageCheck() as check:
            return judge_periods.periodic(check, meetings)
        case MeetingCheck(observe=observe_text) as check:
            require = _expression("$.check.require", check.require, MEETING_NAMES)
            observe = (
                _expression("$.check.observe", observe_text, MEETING_NAMES)
                if observe_text
                else None
            )
            return judge_meetings.each_meeting(check, meetings, require, observe)
        case GapCheck() as check:
            return judge_meetings.gaps(check, meetings)
        case MemberCheck() as check:
            return judge_members.members(check, meetings)
    raise AssertionError(rule.check)  # the Check union is exhaustive


def _check_placeholders(rule: Rule) -> None:
    allowed = PLACEHOLDERS[type(rule.check)]
    for language in ("vi", "en"):
        text = getattr(rule.message, language)
        path = f"$.message.{language}"
        try:
            fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text)]
        except ValueError as exc:
            raise CompileError(path, f"bad placeholder: {exc}") from None
        for name, spec, conversion in fields:
            if name is None:
                continue
            if name not in allowed or spec or conversion:
                raise CompileError(
                    path,
                    f"unknown placeholder `{{{name}}}`; this rule kind offers "
                    + ", ".join(f"{{{n}}}" for n in sorted(allowed)),
                    max(text.find("{" + name), 0),
                )
