"""Rule authors' test cases: scenarios of sample facts kept beside each rule, the findings they
must produce, and running them against a pack with a readable account of each failure.

A case file `tests/<rule_id>.yaml` lists scenarios. Each names cells and meetings in a short
form (defaults give a model cell and a model meeting, so a scenario states only what matters)
and/or full CloudEvents for contract cases (corrections, retractions, duplicates), then the
findings that must and must not be open at the horizon `until`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import msgspec
import yaml

from services.contracts.calendar import require_span
from services.contracts.events import (
    Absence,
    AwareDatetime,
    CellRegistered,
    CellRegisteredEvent,
    CellType,
    Event,
    Identifier,
    MeetingHeld,
    MeetingHeldEvent,
    MeetingKind,
    TopicGroup,
)
from services.contracts.findings import Evidence, Finding, FindingStatus
from services.infra import yamlfile
from services.infra.errors import Problem
from services.rules.domain.evaluate import evaluate
from services.rules.domain.facts import InMemoryFacts
from services.rules.domain.model import RuleId
from services.rules.domain.pack import RulePack, SourceFile, decode
from services.rules.errors import RuleFileError

SHORT_FORM_TIME = datetime(2000, 1, 1, tzinfo=UTC)
"""Envelope time of short-form facts: any full event in the same case supersedes them."""


class ScenarioCell(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A cell in short form: a rural cell without committee, established 2020-01-01."""

    cell_id: Identifier
    cell_type: CellType = CellType.rural
    has_committee: bool = False
    established_on: date = date(2020, 1, 1)
    dissolved_on: date | None = None

    def __post_init__(self) -> None:
        require_span("established_on", self.established_on)
        require_span("dissolved_on", self.dissolved_on)


class ScenarioMeeting(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A meeting in short form: by default a model regular meeting of 10 members, all present."""

    meeting_id: Identifier
    cell_id: Identifier
    held_at: AwareDatetime
    kind: MeetingKind = MeetingKind.regular
    duration_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 120
    includes_thematic: bool = False
    members_total: Annotated[int, msgspec.Meta(ge=1)] = 10
    members_exempt: Annotated[int, msgspec.Meta(ge=0)] = 0
    members_present: Annotated[int, msgspec.Meta(ge=0)] | None = None
    absences: list[Absence] = []
    topic_groups: list[TopicGroup] = []
    criticism_held: bool = True
    hcm_study: bool = True


class Expected(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A finding by identity; `rule` defaults to the file's rule, `observed` is checked if given."""

    cell: Identifier
    scope: str
    rule: RuleId | None = None
    observed: Evidence | None = None


class Scenario(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One scenario: facts, a horizon, and the open findings expected of the file's rule.

    With `exhaustive` (the default) the file's rule must produce exactly the `must` findings.
    """

    name: Annotated[str, msgspec.Meta(min_length=1)]
    until: date
    cells: list[ScenarioCell] = []
    meetings: list[ScenarioMeeting] = []
    events: list[Event] = []
    must: list[Expected] = []
    must_not: list[Expected] = []
    exhaustive: bool = True

    def __post_init__(self) -> None:
        require_span("until", self.until)


class ScenarioFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """`tests/<rule_id>.yaml`: the cases of one rule."""

    rule: RuleId
    cases: Annotated[list[Scenario], msgspec.Meta(min_length=1)]


def scenario_events(case: Scenario) -> list[Event]:
    """Every fact of a case as CloudEvents, short forms first."""
    events: list[Event] = [
        CellRegisteredEvent(
            specversion="1.0",
            id=f"case-cell-{cell.cell_id}",
            source="chibo-rule-tests",
            time=SHORT_FORM_TIME,
            subject=cell.cell_id,
            data=CellRegistered(
                cell_id=cell.cell_id,
                name=cell.cell_id,
                org_id="case-org",
                cell_type=cell.cell_type,
                has_committee=cell.has_committee,
                established_on=cell.established_on,
                dissolved_on=cell.dissolved_on,
            ),
        )
        for cell in case.cells
    ]
    events.extend(_meeting_event(meeting) for meeting in case.meetings)
    events.extend(case.events)
    return events


def _meeting_event(meeting: ScenarioMeeting) -> MeetingHeldEvent:
    present = meeting.members_present
    if present is None:  # everyone not exempted and not absent was there
        present = meeting.members_total - meeting.members_exempt - len(meeting.absences)
    fields = msgspec.structs.asdict(meeting) | {"members_present": present}
    return MeetingHeldEvent(
        specversion="1.0",
        id=f"case-meeting-{meeting.meeting_id}",
        source="chibo-rule-tests",
        time=SHORT_FORM_TIME,
        subject=meeting.cell_id,
        data=MeetingHeld(**fields),
    )


class ScenarioResult(msgspec.Struct, frozen=True):
    """The outcome of one case; `diff` is empty when it passed."""

    file: str
    line: int
    name: str
    diff: list[str]

    @property
    def passed(self) -> bool:
        """Whether the case produced what it expects."""
        return not self.diff


def parse_scenarios(source: SourceFile, pack: RulePack) -> tuple[ScenarioFile, yaml.Node]:
    """Decode a case file and check it names a rule of the pack and is named after it."""
    cases, node = decode(source.text, source.name, ScenarioFile)
    where = yamlfile.node_at(node, "$.rule")
    if cases.rule not in pack.by_id:
        raise RuleFileError(
            [yamlfile.at(source.name, where, f"no rule `{cases.rule}` in the pack")]
        )
    if source.stem != cases.rule:
        message = f"a case file must be named after its rule: `{cases.rule}.yaml`"
        raise RuleFileError([yamlfile.at(source.name, where, message)])
    for index, case in enumerate(cases.cases):
        try:
            scenario_events(case)
        except (ValueError, TypeError) as exc:
            case_node = yamlfile.node_at(node, f"$.cases[{index}].meetings")
            raise RuleFileError(
                [yamlfile.at(source.name, case_node, f"invalid meeting: {exc}")]
            ) from None
    return cases, node


def run_scenarios(source: SourceFile, pack: RulePack) -> list[ScenarioResult]:
    """Run every case of a case file against the whole pack."""
    cases, node = parse_scenarios(source, pack)
    results = []
    for index, case in enumerate(cases.cases):
        line = yamlfile.node_at(node, f"$.cases[{index}]").start_mark.line + 1
        diff = _diff(case, cases.rule, pack)
        results.append(ScenarioResult(source.name, line, case.name, diff))
    return results


def scenario_problems(sources: list[SourceFile], pack: RulePack) -> list[Problem]:
    """Every fault in the case files, without running the cases."""
    problems: list[Problem] = []
    for source in sources:
        try:
            parse_scenarios(source, pack)
        except RuleFileError as exc:
            problems.extend(exc.problems)
    return problems


def _diff(case: Scenario, rule_id: str, pack: RulePack) -> list[str]:
    facts = InMemoryFacts()
    facts.apply_all(scenario_events(case))
    try:
        opened = {
            f.key: f
            for f in evaluate(pack.rules, facts, case.until)
            if f.status == FindingStatus.open
        }
    except Exception as exc:  # a rule lint cannot fault may still fail on real facts
        return [f"  judging failed: {type(exc).__name__}: {exc}"]
    lines = []
    for expected in case.must:
        found = opened.get(_key(expected, rule_id))
        if found is None:
            lines.append(f"  missing     {_show(expected, rule_id)}")
        elif expected.observed is not None and expected.observed != found.observed:
            lines.append(
                f"  observed    {_show(expected, rule_id)}: {found.observed!r}, "
                f"expected {expected.observed!r}"
            )
    for expected in case.must_not:
        if _key(expected, rule_id) in opened:
            lines.append(f"  unexpected  {_show(expected, rule_id)}")
    if case.exhaustive:
        wanted = {_key(e, rule_id) for e in case.must}
        for key, found in sorted(opened.items()):
            if key[0] == rule_id and key not in wanted:
                lines.append(f"  unexpected  {' '.join(key)} ({_evidence(found)})")
    if lines:
        produced = [
            f"    {' '.join(k)} ({_evidence(f)})"
            for k, f in sorted(opened.items())
            if k[0] == rule_id
        ]
        lines.append("  produced by the rule:" if produced else "  the rule produced nothing")
        lines.extend(produced)
    return lines


def _key(expected: Expected, rule_id: str) -> tuple[str, str, str]:
    return expected.rule or rule_id, expected.cell, expected.scope


def _show(expected: Expected, rule_id: str) -> str:
    return " ".join(_key(expected, rule_id))


def _evidence(finding: Finding) -> str:
    return f"observed {finding.observed!r}, expected {finding.expected}"
