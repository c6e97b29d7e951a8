"""A rule's texts with `{placeholders}`: checked when the pack compiles, filled per finding.

A placeholder names a value and may say how to show it: `{observed:percent}` shows a ratio as
`28,6%` / `28.6%`, `{days:days}` a number as `46 ngày` / `46 days`. Each value knows how it
reads by itself — a period as `tháng 4/2023`, a meeting by its kind and date, topic groups by
name — so most placeholders need no format. Formatting is `services.contracts.wording`'s.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Mapping
from datetime import date
from typing import Literal, NamedTuple

from services.contracts import wording
from services.contracts.wording import Language
from services.rules.domain.facts import MeetingFact
from services.rules.domain.periods import PeriodKind, first_day

Kind = Literal["number", "groups", "text"]
"""What a placeholder holds, which decides the formats it takes."""

FORMATS: dict[str, Kind] = {
    "number": "number",
    "percent": "number",
    "days": "number",
    "minutes": "number",
    "months": "number",
    "groups": "groups",
}
"""The formats a placeholder may ask for, and the kind of value each applies to."""


class Period(NamedTuple):
    """A calendar period: `tháng 4/2023`, `quý II/2023`, `năm 2023`."""

    kind: PeriodKind
    key: int


class Span(NamedTuple):
    """Days from `first` to `last`, both included."""

    first: date
    last: date


class Year(NamedTuple):
    """A calendar year: `năm 2023` / `2023`."""

    value: int


class Groups(tuple[int, ...]):
    """Topic groups, shown by name."""


class Meeting(NamedTuple):
    """A meeting, named by its kind and date."""

    fact: MeetingFact


Value = str | int | float | bool | date | Period | Span | Year | Groups | Meeting | list[int]


def show(value: Value, fmt: str, language: Language) -> str:
    """`value` as a reader sees it, in `fmt` (one of FORMATS, or "" for its own way)."""
    match value:
        case bool():
            return wording.YES_NO[value](language)
        case int() | float() if fmt == "percent":
            return wording.percent(value, language)
        case int() | float() if fmt in ("days", "minutes", "months"):
            return wording.amount(value, fmt, language)
        case int() | float():
            return wording.number(value, language)
        case Groups() | list():
            return wording.topic_groups(value, language)
        case Period(kind=kind, key=key):
            return _period(kind, key, language)
        case Span(first=first, last=last):
            return wording.days_between(first, last, language)
        case Year(value=year):
            return wording.year(year, language)
        case Meeting(fact=m):
            return wording.meeting(m.kind, m.includes_thematic, m.day, language)
        case date():
            return wording.day(value, language)
    return str(value)


def _period(kind: PeriodKind, key: int, language: Language) -> str:
    first = first_day(kind, key)
    if kind is PeriodKind.month:
        return wording.month(first.year, first.month, language)
    if kind is PeriodKind.quarter:
        return wording.quarter(first.year, (first.month + 2) // 3, language)
    return wording.year(first.year, language)


class TemplateError(ValueError):
    """A text whose placeholders cannot be filled; `offset` is where, within the text."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message, self.offset = message, offset


Part = tuple[str, str | None, str]  # literal text, then a placeholder's name and format


class Template:
    """One text with placeholders, parsed and checked once."""

    __slots__ = ("literal", "names", "parts")

    def __init__(self, text: str, offered: Mapping[str, Kind]) -> None:
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise TemplateError(f"bad placeholder: {exc}") from None
        parts: list[Part] = []
        for literal, name, fmt, conversion in parsed:
            if name is not None:
                _check(text, name, fmt or "", conversion, offered)
            parts.append((literal, name, fmt or ""))
        self.parts = parts
        self.literal = "".join(literal for literal, _, _ in parts)
        """The text without its placeholders."""
        self.names = {name for _, name, _ in parts if name is not None}

    def render(self, values: Mapping[str, Value], language: Language) -> str:
        """The text with every placeholder filled, as a sentence (capitalised)."""
        out = []
        for literal, name, fmt in self.parts:
            out.append(literal)
            if name is not None:
                out.append(show(values[name], fmt, language))
        return wording.sentence("".join(out))


def _check(
    text: str, name: str, fmt: str, conversion: str | None, offered: Mapping[str, Kind]
) -> None:
    at = max(text.find("{" + name), 0)
    kind = offered.get(name)
    if kind is None:
        listed = ", ".join(f"{{{n}}}" for n in sorted(offered))
        near = difflib.get_close_matches(name, list(offered), n=1)
        hint = f"did you mean `{{{near[0]}}}`? " if near else ""
        raise TemplateError(
            f"unknown placeholder `{{{name}}}`; {hint}this rule offers {listed}", at
        )
    if conversion:
        raise TemplateError(f"`{{{name}!{conversion}}}`: placeholders take no `!` conversion", at)
    if fmt and FORMATS.get(fmt) != kind:
        fits = [f for f, applies in FORMATS.items() if applies == kind]
        takes = ", ".join(f"`{f}`" for f in fits) if fits else "no format"
        raise TemplateError(f"`{{{name}:{fmt}}}`: `{name}` takes {takes}", at)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def typed_numbers(template: Template, params: Mapping[str, float]) -> list[tuple[str, str]]:
    """The numbers typed in the template's own text that a param holds, with the param's name:
    such a number goes stale when the param changes, so it must be `{name}` instead."""
    found = []
    for match in _NUMBER.finditer(template.literal):
        typed = float(match.group().replace(",", "."))
        for name, value in params.items():
            if typed == value or (0 < value < 1 and abs(typed - value * 100) < 1e-9):
                found.append((match.group(), name))
    return found


class RuleTexts:
    """A rule's texts compiled for both languages: the message of a violation, the neutral
    wording of a pass, and the rule's params, which every text may show."""

    __slots__ = ("message", "params", "passed")

    def __init__(
        self,
        message: Mapping[Language, Template],
        passed: Mapping[Language, Template],
        params: Mapping[str, float],
    ) -> None:
        self.message, self.passed, self.params = message, passed, params

    def render(self, values: dict[str, Value], violated: bool) -> tuple[str, str]:
        """The finding's text in Vietnamese and English: the message, or the pass wording."""
        values.update(self.params)
        chosen = self.message if violated else self.passed
        return chosen["vi"].render(values, "vi"), chosen["en"].render(values, "en")
