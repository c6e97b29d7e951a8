"""What a rule edit does, reported before it is put in force: findings opened and resolved per
rule, and the scores and bands that move per cell and closed year."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from services.contracts.events import Event
from services.rules.adapters.files import read_rules
from services.rules.domain.evaluate import evaluate
from services.rules.domain.impact import Impact, ScoreChange, compare
from services.rules.domain.pack import RulePack
from services.rules.domain.score import score_year
from tests.builders import RULES, cell, default_pack, facts_of, monthly

UNTIL = date(2024, 5, 1)


def _history() -> list[Event]:
    """Two cells since 2023: `full` meets every month; `gappy` skips March to June 2023."""
    return [
        cell("full", established_on="2023-01-01"),
        *monthly("full", date(2023, 1, 1), 16),
        cell("gappy", established_on="2023-01-01"),
        *monthly("gappy", date(2023, 1, 1), 2),
        *monthly("gappy", date(2023, 7, 1), 10),
    ]


def _edited(tmp_path: Path, file: str, old: str, new: str) -> RulePack:
    folder = tmp_path / "edited"
    shutil.copytree(RULES, folder)
    path = folder / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return read_rules(folder)


def _impact(new: RulePack, old: RulePack) -> Impact:
    comparison, changes = compare(new, old, facts_of(_history()).cells(), UNTIL)
    list(changes)
    return comparison.impact()


def _score(pack: RulePack, cell_id: str, year: int) -> tuple[int | None, str | None]:
    """The score as `chibo rules score` computes it: the whole pack judged, passes included."""
    found = evaluate(pack.rules, facts_of(_history()), UNTIL, passes=True)
    (score,) = score_year([cell_id], found, pack.costs, pack.pack, year, UNTIL)
    return score.score, score.band


def test_the_same_pack_changes_nothing() -> None:
    impact = _impact(default_pack(), read_rules(RULES))
    assert impact == Impact(
        rules_changed=[], cells_judged=2, cells_failed=0, opened=0, resolved=0, rules=[],
        score_changes=0, band_changes=0, scores=[],
    )  # fmt: skip


def test_a_weight_moves_scores_and_bands_without_a_finding_changing(tmp_path: Path) -> None:
    new = _edited(tmp_path, "regular-meeting-monthly.yaml", "weight: 10", "weight: 15")
    old = default_pack()
    impact = _impact(new, old)
    before, after = _score(old, "gappy", 2023), _score(new, "gappy", 2023)
    assert before != after  # four missing months cost 40 points before, 60 now
    assert impact.rules_changed == ["regular-meeting-monthly"]
    assert (impact.opened, impact.resolved, impact.rules) == (0, 0, [])
    # Only the closed year 2023 is compared, and only the cell that lost points.
    assert impact.scores == [
        ScoreChange(
            cell_id="gappy", year=2023, score_before=before[0], score_after=after[0],
            band_before=before[1], band_after=after[1],
        )
    ]  # fmt: skip
    assert (impact.score_changes, impact.band_changes) == (1, int(before[1] != after[1]))


def test_a_threshold_resolves_findings_and_their_cost(tmp_path: Path) -> None:
    new = _edited(tmp_path, "regular-meeting-gap.yaml", "max_days: 45", "max_days: 200")
    old = default_pack()
    impact = _impact(new, old)
    assert impact.rules_changed == ["regular-meeting-gap"]
    assert [(r.rule_id, r.opened, r.resolved) for r in impact.rules] == [
        ("regular-meeting-gap", 0, 1)
    ]
    # Told by the new pack's own title, its params filled in.
    assert impact.rules[0].title.vi == "Không để quá 200 ngày giữa hai lần sinh hoạt thường kỳ"
    before, after = _score(old, "gappy", 2023), _score(new, "gappy", 2023)
    assert [(s.cell_id, s.score_before, s.score_after) for s in impact.scores] == [
        ("gappy", before[0], after[0])
    ]


def test_a_new_score_frame_rescores_every_cell(tmp_path: Path) -> None:
    new = _edited(tmp_path, "pack.yaml", "full_score: 100", "full_score: 85")
    old = default_pack()
    impact = _impact(new, old)
    assert impact.rules_changed == []  # no rule changed, yet every cell's score did
    expected = [
        (cell_id, _score(old, cell_id, 2023), _score(new, cell_id, 2023))
        for cell_id in ("full", "gappy")
    ]
    assert (
        sorted(
            (s.cell_id, (s.score_before, s.band_before), (s.score_after, s.band_after))
            for s in impact.scores
        )
        == expected
    )
    assert all(before[0] - 15 == after[0] for _, before, after in expected)
    assert impact.band_changes == sum(before[1] != after[1] for _, before, after in expected)
