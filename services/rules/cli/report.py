"""How the `chibo rules` commands print findings, differences, explanations and scores."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

import msgspec

from services.contracts.findings import Finding
from services.rules.domain.facts import CellFacts, MeetingFact
from services.rules.domain.pack import CompiledRule
from services.rules.domain.score import Score

_encoder = msgspec.json.Encoder()
_COLUMNS = ("rule_id", "cell_id", "scope", "status", "mode", "observed", "expected")


def write_jsonl(out: TextIO, rows: Iterable[msgspec.Struct | dict[str, object]]) -> None:
    """One JSON object per line (UTF-8), written in large blocks."""
    # A backtest prints hundreds of thousands of lines: encoding them into one buffer and
    # writing it in blocks costs a fraction of a text write per line.
    block = bytearray()
    encode_into = _encoder.encode_into
    for row in rows:
        encode_into(row, block, -1)
        block += b"\n"
        if len(block) >= 1 << 16:
            _write(out, block)
            block.clear()
    _write(out, block)


def _write(out: TextIO, block: bytearray) -> None:
    binary = getattr(out, "buffer", None)
    if binary is None:
        out.write(block.decode())
        return
    out.flush()  # whatever was written as text goes first
    binary.write(block)
    binary.flush()


def write_table(out: TextIO, rows: Iterable[tuple[str, Finding]]) -> None:
    """Findings as tab-separated columns, each after its marker (`+`/`-` for changes)."""
    out.write("\t".join(("±", *_COLUMNS)) + "\n")
    for marker, finding in rows:
        cells = [str(getattr(finding, column)) for column in _COLUMNS]
        out.write("\t".join((marker, *cells)) + "\n")


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
    if meetings:
        out.write(f"Cuộc họp (meetings)    {len(meetings)} được tính / counted\n")
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


def write_scores(out: TextIO, scores: Iterable[Score]) -> None:
    """Scores as aligned columns."""
    out.write("cell_id\tyear\tscore\tband\txếp loại\tviolations\tdeductions\n")
    for s in scores:
        lost = ", ".join(f"{rule} -{points}" for rule, points in s.deductions.items()) or "-"
        label = s.band_label.vi if s.band_label else "-"
        out.write(f"{s.cell_id}\t{s.year}\t{s.score}\t{s.band}\t{label}\t{s.violations}\t{lost}\n")
