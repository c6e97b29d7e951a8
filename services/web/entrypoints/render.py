"""Pages rendered from templates, with what every page needs in its context: the person's
language and labels in it, the formats of dates and numbers, the form token against CSRF."""

from __future__ import annotations

import functools
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request
from litestar.response import Template

from services.contracts import wording
from services.contracts.calendar import VIETNAM
from services.contracts.wording import Language
from services.web.domain import periods, words

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGE_COOKIE = "chibo_lang"
BLANK = "\u2013"  # an en dash: nothing to show


def environment() -> Environment:
    """The Jinja environment: autoescaped everywhere, an unknown name an error, not blank."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def language_of(request: Request[Any, Any, Any]) -> Language:
    """The person's language: their choice kept in a cookie, Vietnamese until they choose."""
    return "en" if request.cookies.get(LANGUAGE_COOKIE) == "en" else "vi"


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status: int = 200,
    **context: Any,
) -> Template:
    """`template` rendered for the person who asked, in their language."""
    language = language_of(request)
    # Where the page is, with its query: switching the language keeps the year, the period,
    # the sort and the filters the person chose.
    query = request.url.query
    here = request.url.path + (f"?{query}" if query else "")
    return Template(
        template_name=template,
        status_code=status,
        context={**helpers(language), "path": here, **context},
    )


def helpers(language: Language) -> dict[str, Any]:
    """What templates call: labels, the two-language texts the APIs return, and formats."""

    def text(value: Any) -> str:
        # A text the APIs give in both languages, {"vi": ..., "en": ...}, or the pages' own.
        if isinstance(value, wording.Words):
            return value(language)
        if isinstance(value, dict):
            return str(value.get(language) or value.get("vi") or "")
        return "" if value is None else str(value)

    def named(table: str, code: Any) -> str:
        return _named(getattr(words, table), str(code), language)

    return {
        "lang": language,
        "t": lambda name: words.label(name, language),
        "w": text,
        "named": named,
        "day": lambda value: _day(value, language),
        "moment": lambda value: _moment(value, language),
        "number": lambda value: BLANK if value is None else wording.number(value, language),
        "percent": lambda value: BLANK if value is None else wording.percent(value / 100, language),
        "cell_type": lambda code: _named(wording.CELL_TYPES, code, language),
        "severity": lambda code: _named(wording.SEVERITIES, code, language),
        "yes_no": lambda flag: wording.YES_NO[bool(flag)](language),
        "sentence": wording.sentence,
        "period_name": lambda year, part: periods.name(year, part, language),
        "month_marks": lambda year: _month_marks(year, language),
    }


@functools.lru_cache(maxsize=64)
def _month_marks(year: int, language: Language) -> list[dict[str, str]]:
    """For each month of `year`, each calendar mark told as a heat map square's title says it
    (`tháng 3/2025: không sinh hoạt`): worked out once, not once for each of a thousand
    squares."""
    months = [periods.name(year, f"{month:02d}", language) for month in range(1, 13)]
    marks = {mark: _named(words.MARKS, mark, language) for mark in words.MARKS}
    return [{mark: f"{month}: {said}" for mark, said in marks.items()} for month in months]


def _named(table: dict[str, wording.Words], code: str, language: Language) -> str:
    found = table.get(code)
    return found(language) if found is not None else code


def _day(value: Any, language: Language) -> str:
    if value in (None, ""):
        return BLANK
    found = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return wording.day(found, language)


def _moment(value: Any, language: Language) -> str:
    if value in (None, ""):
        return BLANK
    found = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    local = found.astimezone(VIETNAM)
    return f"{wording.day(local.date(), language)} {local:%H:%M}"
