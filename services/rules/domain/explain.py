"""A readable account of one verdict: the rule and its regulation, the cell, the evidence."""

from __future__ import annotations

from typing import TextIO

from services.contracts.findings import Finding
from services.rules.domain.facts import CellFacts, MeetingFact
from services.rules.domain.pack import CompiledRule


def explain(
    out: TextIO, rule: CompiledRule, facts: CellFacts, scope: str, found: Finding | None, why: str
) -> None:
    """A readable account of one verdict, labelled in Vietnamese and English."""
    spec, cell = rule.rule, facts.cell
    out.write(
        f"Quy tắc (rule)         {rule.id} (version {rule.version}, {spec.mode}, "
        f"{spec.severity}, weight {spec.weight})\n"
    )
    out.write(f"                       {spec.title.vi}\n                       {spec.title.en}\n")
    out.write(f"Căn cứ (basis)         {spec.basis}\n")
    dissolved = cell.dissolved_on or "-"
    out.write(
        f"Chi bộ (cell)          {cell.cell_id} — {cell.name} ({cell.cell_type}, chi ủy / "
        f"committee {'có / yes' if cell.has_committee else 'không / no'}, thành lập / "
        f"established {cell.established_on}, giải thể / dissolved {dissolved})\n"
    )
    out.write(f"Phạm vi (scope)        {scope}\n")
    if found is None:
        out.write(f"Kết luận (verdict)     chưa đánh giá / not judged: {why}\n")
        return
    verdict = "VI PHẠM / VIOLATED (open)" if found.status == "open" else "ĐẠT / passed"
    out.write(f"Thời kỳ (period)       {found.period_start} .. {found.period_end} (giờ Việt Nam)\n")
    out.write(f"Kết luận (verdict)     {verdict}\n")
    out.write(f"Yêu cầu (expected)     {found.expected}\nThực tế (observed)     {found.observed}\n")
    counted = set(found.meeting_ids)
    meetings = [m for m in facts.meetings if m.meeting_id in counted]
    total = found.meeting_count if found.meeting_count is not None else len(found.meeting_ids)
    if meetings:
        shown = (
            f" ({len(meetings)} đầu tiên / the first {len(meetings)})"
            if total > len(meetings)
            else ""
        )
        out.write(f"Cuộc họp (meetings)    {total} được tính / counted{shown}\n")
    else:
        out.write("Cuộc họp (meetings)    không có / none counted\n")
    for meeting in meetings:
        out.write(f"  - {_meeting_line(meeting)}\n")
    if found.status == "open":
        out.write(f"Thông báo (message)    {found.message.vi}\n                       "
                  f"{found.message.en}\n")  # fmt: skip


def _meeting_line(m: MeetingFact) -> str:
    thematic = " +thematic" if m.includes_thematic else ""
    return (
        f"{m.meeting_id}: {m.kind}{thematic} on {m.day} (held_at {m.held_at.isoformat()}), "
        f"{m.duration_minutes} min, present {m.members_present}/"
        f"{m.members_total - m.members_exempt}, unexcused {list(m.unexcused)}, "
        f"excused {list(m.excused)}, topics {list(m.topic_groups)}, "
        f"criticism {m.criticism_held}, hcm_study {m.hcm_study}"
    )
