"""Every label a template asks for exists in both languages, and the Vietnamese differs from
the English where a word was left untranslated by mistake."""

from __future__ import annotations

import re

from services.web.domain.words import LABELS
from services.web.entrypoints.render import TEMPLATES

_ASKED = re.compile(r"""\bt\(\s*["']([a-z_]+)["']\s*\)""")


def test_every_label_a_template_asks_for_is_defined() -> None:
    asked = {
        name
        for template in TEMPLATES.glob("*.jinja")
        for name in _ASKED.findall(template.read_text(encoding="utf-8"))
    }
    assert asked, "the templates ask for labels"
    assert sorted(asked - LABELS.keys()) == []


def test_every_label_is_given_in_both_languages() -> None:
    same = [n for n, w in LABELS.items() if w.vi == w.en and n not in {"app"}]
    assert all(w.vi.strip() and w.en.strip() for w in LABELS.values())
    assert same == []


def test_every_error_page_has_its_words() -> None:
    from services.web.entrypoints.errors import _PAGES

    assert {name for pair in _PAGES.values() for name in pair} <= LABELS.keys()


def test_every_guard_kind_and_reserved_trigger_has_its_words() -> None:
    from services.web.domain.words import GUARDS
    from services.workflow.domain.guards import GUARDS as WORKFLOW_GUARDS
    from services.workflow.domain.machine import RESERVED_TRIGGERS
    from services.workflow.domain.model import DeadlineKind, Kind

    assert GUARDS.keys() == WORKFLOW_GUARDS.keys()
    named = (
        [f"kind_{k}" for k in Kind]
        + [f"deadline_{k}" for k in DeadlineKind]
        + [f"trigger_{name}" for name in RESERVED_TRIGGERS]
    )
    assert sorted(set(named) - LABELS.keys()) == []
