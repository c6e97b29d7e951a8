"""An account of one verdict for people: the rule and the regulation it rests on, what was
required and what was found in the rule's own words, and the meetings behind it by date.

Nothing in it is an expression, a Python value or a code: the rule's id and the meetings' ids
appear only beside the evidence they name. `render` lays the account out as text, each line
in Vietnamese with the English below it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Literal

import msgspec

from services.contracts import wording
from services.contracts.findings import Finding, FindingStatus, Text
from services.contracts.wording import LANGUAGES, Language, Words
from services.rules.domain.facts import CellFacts, MeetingFact
from services.rules.domain.judges import judging_start
from services.rules.domain.model import CountCheck, CoverageCheck
from services.rules.domain.pack import CompiledRule
from services.rules.domain.periods import PeriodKind, first_day, label, last_day, period_of
from services.rules.domain.texts import Period, Year, show

Verdict = Literal["violated", "passed", "not_judged"]

VERDICTS: dict[Verdict, Words] = {
    "violated": Words("vi phạm", "violated"),
    "passed": Words("đạt", "passed"),
    "not_judged": Words("chưa đánh giá", "not judged"),
}


NOT_JUDGED = Text(
    vi="Phạm vi này chưa được đánh giá: kỳ chưa kết thúc, chi bộ chưa hoạt động trọn kỳ, quy tắc "
    "chưa có hiệu lực, hoặc không có gì thuộc phạm vi này.",
    en="This scope has not been judged: the period has not ended, the cell was not active for "
    "all of it, the rule was not in force, or nothing falls in the scope.",
)

DOES_NOT_APPLY = Text(
    vi="Quy tắc không áp dụng cho chi bộ này.", en="The rule does not apply to this cell."
)


class MeetingLine(msgspec.Struct, frozen=True):
    """One meeting behind the verdict, in plain words; its id for the record."""

    meeting_id: str
    held_on: date
    text: Text


class Explanation(msgspec.Struct, frozen=True, kw_only=True):
    """How one rule judged one cell over one scope, in both languages."""

    rule_id: str
    title: Text
    basis: str
    basis_text: str | None
    severity: Text
    weight: int
    cell_id: str
    cell: Text
    scope: Text
    verdict: Verdict
    verdict_text: Text
    expected: Text
    # The finding's own words: its message for a violation, neutral words for a pass.
    found: Text | None
    why_not_judged: Text | None
    meeting_count: int
    meetings: list[MeetingLine]


def explain(
    rule: CompiledRule, facts: CellFacts, scope: str, found: Finding | None, why: Text
) -> Explanation:
    """The account of `rule`'s judgment of the cell over `scope`: `found` is the judgment as
    the facts now stand (None: not judged, for the reason `why`)."""
    spec, cell = rule.rule, facts.cell
    verdict: Verdict = (
        "not_judged"
        if found is None
        else "violated"
        if found.status is FindingStatus.open
        else "passed"
    )
    lines: list[MeetingLine] = []
    count = 0
    if found is not None:
        counted = set(found.meeting_ids)
        lines = [_line(m) for m in facts.meetings if m.meeting_id in counted]
        count = found.meeting_count if found.meeting_count is not None else len(lines)
    return Explanation(
        rule_id=rule.id,
        title=rule.title,
        basis=spec.basis,
        basis_text=spec.basis_text,
        severity=_text(wording.SEVERITIES[spec.severity]),
        weight=spec.weight,
        cell_id=cell.cell_id,
        cell=_both(lambda lang: _cell(facts, lang)),
        scope=_both(lambda lang: scope_words(scope, facts, lang)),
        verdict=verdict,
        verdict_text=_text(VERDICTS[verdict]),
        expected=rule.describe or rule.title,
        found=found.message if found is not None else None,
        why_not_judged=why if found is None else None,
        meeting_count=count,
        meetings=lines,
    )


def _text(words: Words) -> Text:
    return Text(vi=words.vi, en=words.en)


def _both(make: Callable[[Language], str]) -> Text:
    vi, en = (make(language) for language in LANGUAGES)
    return Text(vi=vi, en=en)


def _cell(facts: CellFacts, language: Language) -> str:
    cell = facts.cell
    kind = wording.CELL_TYPES.get(cell.cell_type, Words(cell.cell_type, cell.cell_type))
    committee = wording.YES_NO[cell.has_committee](language)
    founded = wording.day(cell.established_on, language)
    if language == "vi":
        text = f"{cell.name}, loại hình {kind.vi}, có chi ủy: {committee}, thành lập {founded}"
        return text + (
            f", giải thể {wording.day(cell.dissolved_on, 'vi')}" if cell.dissolved_on else ""
        )
    text = f"{cell.name}, {kind.en}, with a committee: {committee}, established {founded}"
    return text + (
        f", dissolved {wording.day(cell.dissolved_on, 'en')}" if cell.dissolved_on else ""
    )


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


def scope_words(scope: str, facts: CellFacts, language: Language) -> str:
    """What a scope names, in plain words: a period, a meeting, a member's year, a gap."""
    if m := _MONTH.match(scope):
        first = date(int(m[1]), int(m[2]), 1)
        return show(Period(PeriodKind.month, period_of(PeriodKind.month, first)), "", language)
    if m := _QUARTER.match(scope):
        first = date(int(m[1]), 3 * int(m[2]) - 2, 1)
        return show(Period(PeriodKind.quarter, period_of(PeriodKind.quarter, first)), "", language)
    if m := _YEAR.match(scope):
        return show(Year(int(m[1])), "", language)
    what, _, rest = scope.partition("/")
    if what == "meeting":
        held = next((f for f in facts.meetings if f.meeting_id == rest), None)
        if held is not None:
            return wording.meeting(held.kind, held.includes_thematic, held.day, language)
        return f"buổi sinh hoạt {rest}" if language == "vi" else f"meeting {rest}"
    if what == "member":
        member, _, year = rest.rpartition("/")
        shown = show(Year(int(year)), "", language) if year.isdigit() else year
        return f"đảng viên {member}, {shown}" if language == "vi" else f"member {member}, {shown}"
    if what == "since" and (since := _date(rest)) is not None:
        day = wording.day(since, language)
        return f"từ ngày {day}" if language == "vi" else f"from {day}"
    return scope


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _line(m: MeetingFact) -> MeetingLine:
    return MeetingLine(m.meeting_id, m.day, _both(lambda lang: meeting_words(m, lang)))


def meeting_words(m: MeetingFact, language: Language) -> str:
    """One meeting's record in plain words: length, attendance, absences, content."""
    expected = m.members_total - m.members_exempt
    share = wording.percent(m.members_present / expected, language) if expected else "-"
    none = "không" if language == "vi" else "none"
    excused = wording.listing(m.excused, language) if m.excused else none
    unexcused = wording.listing(m.unexcused, language) if m.unexcused else none
    thematic = m.kind == "thematic" or m.includes_thematic
    groups = wording.topic_groups(m.topic_groups, language)
    said = wording.YES_NO
    head = wording.sentence(wording.meeting(m.kind, m.includes_thematic, m.day, language))
    length = wording.amount(m.duration_minutes, "minutes", language)
    if language == "vi":
        parts = [
            length,
            f"{m.members_present}/{expected} đảng viên dự ({share})",
            f"vắng có lý do: {excused}",
            f"vắng không có lý do: {unexcused}",
            *([f"nhóm nội dung chuyên đề: {groups}"] if thematic else []),
            f"tự phê bình và phê bình: {said[m.criticism_held].vi}",
            f"học tập và làm theo Bác: {said[m.hcm_study].vi}",
        ]
    else:
        parts = [
            length,
            f"{m.members_present} of {expected} members present ({share})",
            f"excused: {excused}",
            f"absent without reason: {unexcused}",
            *([f"thematic topic groups: {groups}"] if thematic else []),
            f"self-criticism and criticism: {said[m.criticism_held].en}",
            f"Ho Chi Minh study: {said[m.hcm_study].en}",
        ]
    return f"{head}: " + "; ".join(parts)


_LABELS = {
    "rule": Words("Quy tắc", "Rule"),
    "basis": Words("Căn cứ", "Basis"),
    "cell": Words("Chi bộ", "Cell"),
    "scope": Words("Phạm vi", "Scope"),
    "verdict": Words("Kết luận", "Verdict"),
    "expected": Words("Yêu cầu", "Required"),
    "found": Words("Thực tế", "Found"),
    "why": Words("Lý do", "Why"),
    "meetings": Words("Cuộc họp", "Meetings"),
}
_WIDTH = 22


def render(account: Explanation, *, heading: bool = True) -> str:
    """The account as text: each line in Vietnamese, then in English beneath it. Without
    `heading`, the rule, its basis and the cell are left out (told once above a series)."""
    out: list[str] = []

    def pair(label: str, text: Text) -> None:
        name = _LABELS[label]
        out.append(f"{name.vi + ' / ' + name.en:<{_WIDTH}} {text.vi}")
        out.append(f"{'':<{_WIDTH}} {text.en}")

    if heading:
        _heading(account, out, pair)
    pair("scope", account.scope)
    pair("verdict", account.verdict_text)
    pair("expected", account.expected)
    if account.found is not None:
        pair("found", account.found)
    if account.why_not_judged is not None:
        pair("why", account.why_not_judged)
    if account.verdict != "not_judged":
        shown = len(account.meetings)
        more = account.meeting_count - shown
        total, listed = (_count(account.meeting_count), _count(shown))
        counted = Text(
            vi=f"{total.vi} buổi được tính" + (f", liệt kê {listed.vi} buổi đầu" if more else ""),
            en=f"{total.en} counted" + (f", the first {listed.en} listed" if more else ""),
        )
        pair("meetings", counted)
        for line in account.meetings:
            out.append(f"  - {line.text.vi} [{line.meeting_id}]")
            out.append(f"    {line.text.en}")
    return "\n".join(out) + "\n"


def _heading(account: Explanation, out: list[str], pair: Callable[[str, Text], None]) -> None:
    """The rule, its weight and basis, and the cell: what a series of judgments shares."""
    pair("rule", account.title)
    weight = account.weight
    out.append(
        f"{'':<{_WIDTH}} {account.rule_id} · {account.severity.vi} / {account.severity.en}"
        f" · trọng số / weight {weight}"
    )
    name = _LABELS["basis"]
    out.append(f"{name.vi + ' / ' + name.en:<{_WIDTH}} {account.basis}")
    if account.basis_text:
        out.append(f"{'':<{_WIDTH}} “{account.basis_text}”")
    pair("cell", account.cell)


def _count(value: int) -> Text:
    return _both(lambda language: wording.number(value, language))


class Judgment(msgspec.Struct, frozen=True, kw_only=True):
    """One row of a cell's year: a rule over one scope, passed, violated or not judged, in
    plain words (`text`: the finding's own, or why it was not judged)."""

    rule_id: str
    title: Text
    scope: str
    scope_text: Text
    verdict: Verdict
    verdict_text: Text
    text: Text
    period_start: date
    period_end: date
    finding: Finding | None


NotJudged = Literal["not_ended", "not_in_force", "before_start", "not_active"]
"""Why a period of a periodic rule was not judged, in the order they are told apart."""

NOT_JUDGED_REASONS: dict[NotJudged, Text] = {
    "not_ended": Text(vi="Kỳ chưa kết thúc.", en="The period has not ended."),
    "not_in_force": Text(vi="Quy tắc chưa có hiệu lực trong kỳ.", en="The rule was not in force."),
    "before_start": Text(
        vi="Kỳ bắt đầu trước ngày bắt đầu xét của tổ chức (dữ liệu trước đó không được xét).",
        en="The period starts before the org's judging start (history before it is not judged).",
    ),
    "not_active": Text(
        vi="Chi bộ không hoạt động trọn kỳ (chưa thành lập, hoặc đã giải thể).",
        en="The cell was not active for all of the period (not yet established, or dissolved).",
    ),
}


def why_not_judged(
    rule: CompiledRule, facts: CellFacts, start: date, end: date, horizon: date
) -> NotJudged:
    """Why the period [start, end] (its last day) was not judged by `rule` for the cell of
    `facts`: it runs on to the horizon, the rule was not in force, it starts before the
    judging start, or else the cell was not active all of it."""
    if end >= horizon:
        return "not_ended"
    if not rule.in_force(start):
        return "not_in_force"
    judged_from = judging_start(facts.cell, facts.judged_from, rule)
    return "before_start" if judged_from is not None and start < judged_from else "not_active"


def year_rows(
    rules: Sequence[CompiledRule],
    facts: CellFacts,
    judged: Iterable[Finding],
    year: int,
    horizon: date,
) -> list[Judgment]:
    """Every judgment of the cell's `year` as a row, and a `not_judged` row, with its reason,
    for each calendar period of the year a periodic rule did not judge (rules that do not
    apply to the cell give no rows)."""
    by_id = {rule.id: rule for rule in rules}
    rows = [_row(by_id[f.rule_id], facts, f) for f in judged if f.rule_id in by_id]
    seen = {(row.rule_id, row.scope) for row in rows}
    cell = facts.cell
    for rule in rules:
        check = rule.rule.check
        if not isinstance(check, CountCheck | CoverageCheck) or not rule.applies_to(cell):
            continue
        kind = check.period
        first, last = period_of(kind, date(year, 1, 1)), period_of(kind, date(year, 12, 31))
        for key in range(first, last + 1):
            scope = label(kind, key)
            if (rule.id, scope) in seen:
                continue
            start, end = first_day(kind, key), last_day(kind, key)
            reason = NOT_JUDGED_REASONS[why_not_judged(rule, facts, start, end, horizon)]
            rows.append(
                Judgment(
                    rule_id=rule.id, title=rule.title, scope=scope,
                    scope_text=_scope_text(scope, facts),
                    verdict="not_judged", verdict_text=_text(VERDICTS["not_judged"]),
                    text=reason, period_start=start, period_end=end, finding=None,
                )
            )  # fmt: skip
    return sorted(rows, key=lambda row: (row.rule_id, row.period_start, row.scope))


def _scope_text(scope: str, facts: CellFacts) -> Text:
    return _both(lambda language: scope_words(scope, facts, language))


def _row(rule: CompiledRule, facts: CellFacts, found: Finding) -> Judgment:
    verdict: Verdict = "violated" if found.status is FindingStatus.open else "passed"
    return Judgment(
        rule_id=rule.id,
        title=rule.title,
        scope=found.scope,
        scope_text=_scope_text(found.scope, facts),
        verdict=verdict,
        verdict_text=_text(VERDICTS[verdict]),
        text=found.message,
        period_start=found.period_start,
        period_end=found.period_end,
        finding=found,
    )
