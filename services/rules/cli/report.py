"""How the `chibo rules` commands print findings, differences and scores."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

import msgspec

from services.contracts.findings import Finding
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
