"""A trigger's form read back into the payload the workflow API takes, and the workflow laid
out for its diagram."""

from __future__ import annotations

import pytest

from services.web.domain import diagram, forms
from tests.unit.test_web_case_page import VIEW

TRIGGERS = {t["name"]: t for t in VIEW["triggers"]}


def test_a_list_s_blank_rows_are_skipped_and_its_typed_rows_become_items() -> None:
    typed = {
        "f.decision_ref": [" 15-QĐ/UBKT "],
        "f.team.0.name": ["Vũ"], "f.team.0.role": ["leader"],
        "f.team.1.name": [""], "f.team.1.role": ["member"],
        "f.team.2.name": ["Lê"], "f.team.2.role": ["member"],
        "f.started_on": ["03/03/2025"],
    }  # fmt: skip
    reading = forms.read(TRIGGERS["start"]["fields"], typed, "c-1")
    assert reading.errors == {}
    assert reading.payload == {
        "decision_ref": "15-QĐ/UBKT",
        "team": [{"name": "Vũ", "role": "leader"}, {"name": "Lê", "role": "member"}],
        "started_on": "2025-03-03",
    }


def test_each_wrong_value_is_named_by_its_key() -> None:
    typed = {
        "f.progress.0.action": ["1"], "f.progress.0.percent": ["140"],
        "f.progress.1.action": ["hai"], "f.progress.1.percent": ["10"],
    }  # fmt: skip
    reading = forms.read(TRIGGERS["report_progress"]["fields"], typed, "c-1")
    assert reading.errors["f.progress.0.percent"].vi == "Cần một số từ 0 đến 100."
    assert reading.errors["f.progress.1.action"].en == "A whole number is needed."
    missing = forms.read(TRIGGERS["submit_self_report"]["fields"], {}, "c-1")
    assert missing.errors == {"f.self_report": forms.REQUIRED}
    dated = forms.read(TRIGGERS["conclude"]["fields"], {"f.remediation_due": ["31/02/2025"]}, "c")
    assert dated.errors["f.remediation_due"] == forms.NOT_A_DATE


def test_findings_ticked_for_a_shortcoming_name_the_case_s_cell() -> None:
    typed = {
        "f.conclusion": ["Kết luận"],
        "f.shortcomings.0.text": ["Không sinh hoạt tháng 12"],
        "f.shortcomings.0.findings": ["regular-meeting-monthly|2025-12"],
    }
    reading = forms.read(TRIGGERS["conclude"]["fields"], typed, "c-9")
    assert reading.payload["shortcomings"] == [
        {
            "text": "Không sinh hoạt tháng 12",
            "findings": [
                {"rule_id": "regular-meeting-monthly", "cell_id": "c-9", "scope": "2025-12"}
            ],
        }
    ]


def test_the_api_s_field_paths_map_to_form_keys() -> None:
    assert forms.api_key("payload.team[0].name") == "f.team.0.name"
    assert forms.api_key("payload.started_on") == "f.started_on"
    assert forms.api_key("comment") == "comment"


def test_no_arrow_crosses_a_state() -> None:
    states = [(s["name"], s["title"]["vi"], s["final"]) for s in VIEW["states"]]
    moves = [(t["name"], m["source"], m["to"]) for t in VIEW["triggers"] for m in t["moves"]]
    drawn = diagram.layout(states, moves, "verifying", ["planned", "in_progress"])
    right = diagram.MARGIN + diagram.BOX_WIDTH
    for arrow in drawn.arrows:
        first, *rest = arrow.d.split()
        if first.startswith(f"M{right},"):  # along a lane, right of every state
            assert int(rest[0].removeprefix("H")) > right
        else:  # straight down to the next state
            assert first.startswith(f"M{diagram.MARGIN + diagram.BOX_WIDTH // 2},")
    assert [b.name for b in drawn.boxes if b.current] == ["verifying"]
    assert {b.name for b in drawn.boxes if b.visited} == {"planned", "in_progress"}
    assert drawn.width > right
    # The self-loops (extend, report_progress) are not drawn; every other move is.
    pairs = {(s, t) for _, s, t in moves if s != t}
    assert len(drawn.arrows) == len(pairs)
    assert sum(len(a.triggers) for a in drawn.arrows) == sum(1 for _, s, t in moves if s != t)


def test_what_was_typed_is_named_by_its_labels_and_odd_keys_are_ignored() -> None:
    from services.web.service.cases import typed_said

    typed = {
        "f.decision_ref": ["20-QĐ"], "f.team.0.name": ["Vũ"], "f.team.0.role": ["leader"],
        "f.team.x.name": ["?"], "f": ["?"], "f.nothing": ["?"], "comment": ["vì"],
        "_csrf_token": ["secret"],
    }  # fmt: skip
    assert typed_said(TRIGGERS["start"], typed, "vi") == [
        ("Số quyết định kiểm tra", "20-QĐ"),
        ("Đoàn kiểm tra 1 · Họ và tên", "Vũ"),
        ("Đoàn kiểm tra", "?"),
        ("Ghi chú, lý do", "vì"),
    ]


def test_a_hand_made_row_number_is_no_row() -> None:
    huge = "f.team." + "9" * 5000 + ".name"
    typed = {"f.team.\u00b2.name": ["?"], huge: ["?"], "f.team.0.name": ["Vũ"]}
    assert forms.rows_typed(TRIGGERS["start"]["fields"][1], ("team",), typed) == 1


def test_a_sign_in_never_returns_to_another_site() -> None:
    from services.web.entrypoints.session import local

    assert local("/cases/k-1?done=start") == "/cases/k-1?done=start"
    for away in ("//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example"):
        assert local(away) == "/", away


def test_a_number_too_long_for_a_cell_is_refused_not_a_fault() -> None:
    from services.rules.domain import sheets

    with pytest.raises(sheets._RefusedError):
        sheets.read_count("9" * 5000)
