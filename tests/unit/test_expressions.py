"""The safe expression language of rule predicates."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from services.rules.domain.expressions import ExpressionError, compile_expression
from services.rules.domain.facts import MEETING_NAMES


def _meeting(**fields: object) -> SimpleNamespace:
    base: dict[str, object] = {
        "kind": "regular",
        "includes_thematic": False,
        "duration_minutes": 120,
        "members_total": 10,
        "members_exempt": 0,
        "members_present": 10,
        "excused": (),
        "unexcused": (),
        "topic_groups": (),
        "criticism_held": True,
        "hcm_study": True,
    }
    return SimpleNamespace(**(base | fields))


def _value(text: str, **fields: object) -> object:
    return compile_expression(text, MEETING_NAMES)(_meeting(**fields))


def _error(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(text, MEETING_NAMES)
    return caught.value


def test_comparison_of_a_derived_ratio() -> None:
    assert _value("attendance_ratio > 0.85", members_present=9) is True
    assert _value("attendance_ratio > 0.85", members_total=20, members_present=17) is False


def test_conditional_threshold() -> None:
    text = "duration_minutes >= (120 if kind == 'regular' and includes_thematic else 90)"
    assert _value(text, duration_minutes=100, includes_thematic=True) is False
    assert _value(text, duration_minutes=100, kind="thematic", includes_thematic=True) is True


def test_thematic_means_kind_thematic_or_a_regular_meeting_with_a_thematic_session() -> None:
    assert _value("thematic", kind="thematic") is True
    assert _value("thematic", includes_thematic=True) is True
    assert _value("thematic", kind="committee", includes_thematic=True) is False


def test_membership_in_a_literal_list_and_in_topic_groups() -> None:
    assert _value("kind in ('regular', 'thematic')", kind="thematic") is True
    assert _value("5 in topic_groups and not 1 in topic_groups", topic_groups=(5, 2)) is True


def test_chained_comparison_and_arithmetic() -> None:
    assert _value("0 < members_total - members_exempt <= 7", members_exempt=3) is True
    assert _value("absences * 2 == 4", excused=("a",), unexcused=("b",)) is True


def test_division_by_zero_does_not_stop_an_evaluation() -> None:
    assert _value("members_present / members_exempt > 1000") is True


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("__import__('os')", 0),
        ("kind.upper() == 'X'", 0),
        ("duration_minutes[0]", 0),
        ("[m for m in topic_groups]", 0),
        ("lambda: 1", 0),
        ("kind == 'regular' and (x := 1)", 23),
    ],
)
def test_calls_attributes_subscripts_and_comprehensions_are_refused(text: str, offset: int) -> None:
    error = _error(text)
    assert "is not allowed" in error.message
    assert error.offset == offset


def test_unknown_name_is_refused_with_its_column() -> None:
    error = _error("kind == 'regular' and open")
    assert (error.offset, error.message.split(";")[0]) == (22, "unknown name `open`")


def test_misspelt_choice_is_refused() -> None:
    error = _error("kind in ('regular', 'thematc')")
    assert error.offset == 20
    assert "never 'thematc'" in error.message


def test_syntax_error_is_reported_with_a_column() -> None:
    assert _error("  kind ==").message.startswith("invalid expression")
