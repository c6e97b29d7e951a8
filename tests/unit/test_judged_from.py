"""Where judging starts: the nearest org's `judged_from`, else the pack's, else establishment;
nothing that starts before it is judged, no gap counts before it."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from services.contracts.events import Event
from services.contracts.findings import Finding
from services.rules.adapters.files import read_rules
from services.rules.domain.facts import judged_from
from services.rules.domain.pack import RulePack
from tests.builders import RULES, cell, judge, monthly, org


def findings(
    events: list[Event], until: str = "2025-12-15", pack: RulePack | None = None
) -> list[Finding]:
    return judge(events, until, pack)


def founded_2020_met_2025() -> list[Event]:
    return [cell("c-1", established_on="2020-01-01"), *monthly("c-1", date(2025, 1, 10), 11)]


def test_without_a_judging_start_the_old_years_are_judged() -> None:
    found = findings([org("org-1", "Xã"), *founded_2020_met_2025()])
    assert min(f.period_start for f in found) == date(2020, 1, 1)


def test_an_org_s_judging_start_holds_for_the_cells_below_it() -> None:
    found = findings([org("org-1", "Xã", judged_from="2025-01-01"), *founded_2020_met_2025()])
    assert found
    assert min(f.period_start for f in found) >= date(2025, 1, 1)
    assert not [f for f in found if f.rule_id == "regular-meeting-gap"]


def test_the_pack_s_judging_start_holds_where_no_org_sets_one(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    pack_file = folder / "pack.yaml"
    pack_file.write_text(pack_file.read_text() + "judged_from: 2025-04-01\n")
    pack = read_rules(folder)
    found = findings([org("org-1", "Xã"), *founded_2020_met_2025()], pack=pack)
    assert min(f.period_start for f in found) >= date(2025, 4, 1)
    # An org's own start wins over the pack's, earlier or later.
    own = findings(
        [org("org-1", "Xã", judged_from="2024-01-01"), *founded_2020_met_2025()], pack=pack
    )
    assert min(f.period_start for f in own) == date(2024, 1, 1)
    assert pack.version != read_rules(RULES).version


def test_the_nearest_org_that_sets_a_start_is_the_one() -> None:
    events = [
        org("tinh", "Tỉnh", judged_from="2023-01-01"),
        org("xa", "Xã", parent_id="tinh"),
        org("thon", "Thôn", parent_id="xa", judged_from="2025-01-01"),
    ]
    orgs = {e.data.org_id: e.data for e in events}  # type: ignore[union-attr]
    assert judged_from(orgs, "thon") == date(2025, 1, 1)
    assert judged_from(orgs, "xa") == date(2023, 1, 1)
    assert judged_from(orgs, "unknown") is None
    cyclic = {**orgs, "tinh": org("tinh", "Tỉnh", parent_id="thon").data}  # type: ignore[union-attr]
    assert judged_from(cyclic, "xa") == date(2025, 1, 1)
