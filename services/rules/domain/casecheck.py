"""Running authors' test cases against a rule pack, with a readable account of each failure."""

from __future__ import annotations

import msgspec
import yaml

from services.contracts.findings import Finding, FindingStatus
from services.infra import yamlfile
from services.infra.errors import Problem
from services.rules.domain.cases import Case, CaseFile, Expected, case_events
from services.rules.domain.evaluate import evaluate
from services.rules.domain.loader import RulePack, SourceFile, decode
from services.rules.domain.store import InMemoryFacts
from services.rules.errors import RuleFileError


class CaseResult(msgspec.Struct, frozen=True):
    """The outcome of one case; `diff` is empty when it passed."""

    file: str
    line: int
    name: str
    diff: list[str]

    @property
    def passed(self) -> bool:
        """Whether the case produced what it expects."""
        return not self.diff


def load_cases(source: SourceFile, pack: RulePack) -> tuple[CaseFile, yaml.Node]:
    """Decode a case file and check it names a rule of the pack and is named after it."""
    cases, node = decode(source.text, source.name, CaseFile)
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
            case_events(case)
        except (ValueError, TypeError) as exc:
            case_node = yamlfile.node_at(node, f"$.cases[{index}].meetings")
            raise RuleFileError(
                [yamlfile.at(source.name, case_node, f"invalid meeting: {exc}")]
            ) from None
    return cases, node


def run_cases(source: SourceFile, pack: RulePack) -> list[CaseResult]:
    """Run every case of a case file against the whole pack."""
    cases, node = load_cases(source, pack)
    results = []
    for index, case in enumerate(cases.cases):
        line = yamlfile.node_at(node, f"$.cases[{index}]").start_mark.line + 1
        diff = _diff(case, cases.rule, pack)
        results.append(CaseResult(source.name, line, case.name, diff))
    return results


def case_problems(sources: list[SourceFile], pack: RulePack) -> list[Problem]:
    """Every fault in the case files, without running the cases."""
    problems: list[Problem] = []
    for source in sources:
        try:
            load_cases(source, pack)
        except RuleFileError as exc:
            problems.extend(exc.problems)
    return problems


def _diff(case: Case, rule_id: str, pack: RulePack) -> list[str]:
    facts = InMemoryFacts()
    facts.apply_all(case_events(case))
    opened = {
        f.key: f for f in evaluate(pack.rules, facts, case.until) if f.status == FindingStatus.open
    }
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
