"""How the `chibo rules` commands print findings, differences and scores, and the summaries
they close with on stderr (Vietnamese first, English beside it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TextIO

import msgspec

from services.contracts import wording
from services.contracts.findings import Finding, FindingStatus
from services.rules.domain.impact import Impact
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


def write_scores(out: TextIO, scores: Iterable[Score]) -> None:
    """Scores as aligned columns."""
    out.write("cell_id\tyear\tstatus\tscore\tband\txếp loại\tviolations\tdeductions\n")
    for s in scores:
        lost = ", ".join(f"{rule} -{points}" for rule, points in s.deductions.items()) or "-"
        label = s.band_label.vi if s.band_label else "-"
        score = "-" if s.score is None else s.score
        out.write(
            f"{s.cell_id}\t{s.year}\t{s.status}\t{score}\t{s.band or '-'}\t{label}\t"
            f"{s.violations}\t{lost}\n"
        )


class Tally:
    """Counts the findings passing through it, per rule: violations and passes."""

    def __init__(self) -> None:
        self.violations: Counter[str] = Counter()
        self.passes: Counter[str] = Counter()

    def counted(self, findings: Iterable[Finding]) -> Iterator[Finding]:
        """`findings`, unchanged, each counted as it goes by."""
        for finding in findings:
            open_ = finding.status == FindingStatus.open
            (self.violations if open_ else self.passes)[finding.rule_id] += 1
            yield finding


def write_summary(
    out: TextIO, cells: int, rule_ids: Iterable[str], tally: Tally, passes: bool
) -> None:
    """What a backtest judged: the cells, and the violations (and passes) of every rule, those
    that found nothing too."""
    out.write(f"{_pair('Đã xét {} chi bộ', 'Cells judged: {}', cells)}\n")
    heads = ["Quy tắc / Rule", "Vi phạm / Violations"] + (["Đạt / Passed"] if passes else [])
    rows = [
        [rule, _both(tally.violations[rule])] + ([_both(tally.passes[rule])] if passes else [])
        for rule in sorted({*rule_ids, *tally.violations, *tally.passes})
    ]
    total = ["Tổng / Total", _both(tally.violations.total())]
    _columns(out, heads, [*rows, total + ([_both(tally.passes.total())] if passes else [])])


def write_impact(out: TextIO, impact: Impact) -> None:
    """What a new pack changes against the old: per rule, and in scores of closed years."""
    changed = ", ".join(impact.rules_changed) or "-"
    out.write(f"Quy tắc thay đổi / Rules changed: {changed}\n")
    out.write(f"{_pair('Đã xét {} chi bộ', 'Cells judged: {}', impact.cells_judged)}\n")
    if impact.cells_failed:
        vi = "Bộ quy tắc cũ không xét được {} chi bộ, không so sánh"
        en = "Cells the old rules fail on, left out: {}"
        out.write(f"{_pair(vi, en, impact.cells_failed)}\n")
    rows = [[r.rule_id, _both(r.opened), _both(r.resolved)] for r in impact.rules]
    total = ["Tổng / Total", _both(impact.opened), _both(impact.resolved)]
    _columns(out, ["Quy tắc / Rule", "Phát sinh / Opened", "Hết / Resolved"], [*rows, total])
    out.write(
        f"{_pair('Điểm thay đổi: {}', 'Score changes: {}', impact.score_changes)}; "
        f"{_pair('xếp loại thay đổi: {}', 'band changes: {}', impact.band_changes)}\n"
    )
    if impact.scores:
        scores = [
            [
                s.cell_id,
                str(s.year),
                f"{_mark(s.score_before)} → {_mark(s.score_after)}",
                f"{s.band_before or '-'} → {s.band_after or '-'}",
            ]
            for s in impact.scores
        ]
        heads = ["Chi bộ / Cell", "Năm / Year", "Điểm / Score", "Xếp loại / Band"]
        _columns(out, heads, scores)
    if impact.score_changes > len(impact.scores):
        more = impact.score_changes - len(impact.scores)
        out.write(f"{_pair('… và {} thay đổi khác', '… and {} more', more)}\n")


def judged_line(judged: int, violated: int) -> str:
    """How many scopes a rule judged on a cell, and how many it found violated."""
    passed = judged - violated
    vi = wording.number(judged, "vi"), wording.number(violated, "vi"), wording.number(passed, "vi")
    en = wording.number(judged, "en"), wording.number(violated, "en"), wording.number(passed, "en")
    return (
        f"{vi[0]} phạm vi đã đánh giá: {vi[1]} vi phạm, {vi[2]} đạt / "
        f"{en[0]} scopes judged: {en[1]} violated, {en[2]} passed\n"
    )


def _pair(vi: str, en: str, count: int) -> str:
    return f"{vi.format(wording.number(count, 'vi'))} / {en.format(wording.number(count, 'en'))}"


def _both(count: int) -> str:
    vi, en = wording.number(count, "vi"), wording.number(count, "en")
    return vi if vi == en else f"{vi} / {en}"


def _mark(score: int | None) -> str:
    return "-" if score is None else str(score)


def _columns(out: TextIO, heads: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [heads, *rows]) for i in range(len(heads))]
    for row in [heads, *rows]:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write(line.rstrip() + "\n")
