"""The rule pack: rule files' text compiled into rules ready to judge, with the pack's score frame.

Every `<rule_id>.yaml` and an optional `pack.yaml` are decoded into strict Structs, each rule's
expressions turned into callables and its judge chosen. Problems are collected across all files,
so one lint run lists every fault at file:line:col. Reading the files from disk is
`services.rules.adapters.files`'s job: the pack only ever sees their text.
"""

from __future__ import annotations

import ast
import hashlib
import string
from pathlib import Path, PurePath
from typing import TypeVar

import msgspec
import yaml

from services.contracts.events import CellRegistered
from services.infra import yamlfile
from services.infra.errors import FileProblemsError, Problem
from services.rules.domain import judges
from services.rules.domain.expressions import ExpressionError, Getter, Name, compile_expression
from services.rules.domain.facts import CELL_NAMES, MEETING_NAMES
from services.rules.domain.judges import JudgedRule, Verdicts
from services.rules.domain.model import (
    Band,
    CountCheck,
    CoverageCheck,
    GapCheck,
    MeetingCheck,
    MemberCheck,
    Pack,
    Rule,
)
from services.rules.errors import RuleFileError

_COMMON = {"cell", "period", "observed", "expected"}
PLACEHOLDERS: dict[type, frozenset[str]] = {
    CountCheck: frozenset(_COMMON),
    CoverageCheck: frozenset(_COMMON),
    MeetingCheck: frozenset(_COMMON | {"meeting", "date"}),
    GapCheck: frozenset(_COMMON | {"since", "until", "days"}),
    MemberCheck: frozenset(_COMMON | {"member", "year"}),
}
"""The `{names}` a message may use, by check kind."""


class CompileError(ValueError):
    """A rule that decodes but cannot be compiled; `path` is the JSON path of the bad field."""

    def __init__(self, path: str, message: str, offset: int = 0) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.message, self.offset = path, message, offset


class CompiledRule(JudgedRule):
    """A rule ready to judge cells: its expressions compiled and its judge chosen, once at load,
    then shared by every evaluation."""

    def __init__(self, rule: Rule, version: str) -> None:
        super().__init__(rule, version)
        applies = rule.applies_to
        self.applies: Getter = (
            _expression("$.applies_to", applies, CELL_NAMES) if applies else lambda _cell: True
        )
        _check_placeholders(rule)
        self.judge: Verdicts = _judge(rule)

    def applies_to(self, cell: CellRegistered) -> bool:
        """Whether the rule judges `cell` at all."""
        return bool(self.applies(cell))


def meeting_expression(path: str, text: str) -> tuple[str, Getter]:
    """A meeting predicate compiled, with a key that is equal for equal predicates."""
    test = _expression(path, text, MEETING_NAMES)
    return ast.dump(ast.parse(text.strip(), mode="eval")), test


def _expression(path: str, text: str, names: dict[str, Name]) -> Getter:
    try:
        return compile_expression(text, names)
    except ExpressionError as exc:
        raise CompileError(path, exc.message, exc.offset) from None


def _judge(rule: Rule) -> Verdicts:
    meetings = meeting_expression("$.check.meetings", rule.check.meetings)
    match rule.check:
        case CountCheck() | CoverageCheck() as check:
            return judges.periodic(check, meetings)
        case MeetingCheck(observe=observe_text) as check:
            require = _expression("$.check.require", check.require, MEETING_NAMES)
            observe = (
                _expression("$.check.observe", observe_text, MEETING_NAMES)
                if observe_text
                else None
            )
            return judges.each_meeting(check, meetings, require, observe)
        case GapCheck() as check:
            return judges.gaps(check, meetings)
        case MemberCheck() as check:
            return judges.members(check, meetings)
    raise AssertionError(rule.check)  # the Check union is exhaustive


def _check_placeholders(rule: Rule) -> None:
    allowed = PLACEHOLDERS[type(rule.check)]
    for language in ("vi", "en"):
        text = getattr(rule.message, language)
        path = f"$.message.{language}"
        try:
            fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text)]
        except ValueError as exc:
            raise CompileError(path, f"bad placeholder: {exc}") from None
        for name, spec, conversion in fields:
            if name is None:
                continue
            if name not in allowed or spec or conversion:
                raise CompileError(
                    path,
                    f"unknown placeholder `{{{name}}}`; this rule kind offers "
                    + ", ".join(f"{{{n}}}" for n in sorted(allowed)),
                    max(text.find("{" + name), 0),
                )


T = TypeVar("T")

DEFAULT_PACK = Pack(
    name="unnamed",
    basis="Quy định 366-QĐ/TW",
    bands=[
        Band("excellent", 90),
        Band("good", 70),
        Band("complete", 50),
        Band("not_complete", 0),
    ],
)


class SourceFile(msgspec.Struct, frozen=True):
    """A file's text and the name (its path) its faults are reported under."""

    name: str
    text: str

    @property
    def stem(self) -> str:
        """The file name without folder or extension, which must equal what the file defines."""
        return PurePath(self.name).stem


class RulePack:
    """The compiled rules of one folder, and its score frame."""

    def __init__(self, directory: Path, pack: Pack, rules: list[CompiledRule]) -> None:
        self.directory, self.pack, self.rules = directory, pack, rules
        self.by_id = {rule.id: rule for rule in rules}
        joined = "".join(f"{rule.id}:{rule.version}\n" for rule in rules)
        # The score frame is part of the pack: editing pack.yaml is a new version too.
        content = joined.encode() + msgspec.json.encode(pack)
        self.version = hashlib.sha256(content).hexdigest()[:12]


def compile_pack(directory: Path, rules: list[SourceFile], pack: SourceFile | None) -> RulePack:
    """Compile the rule files (and pack file) of `directory`, or raise RuleFileError listing all
    faults; `directory` only names where the pack came from."""
    problems: list[Problem] = []
    compiled_rules: list[CompiledRule] = []
    seen: dict[str, str] = {}
    for source in rules:
        try:
            rule, node = decode(source.text, source.name, Rule)
            compiled = _compile(source, rule, node)
        except RuleFileError as exc:
            problems.extend(exc.problems)
            continue
        id_node = yamlfile.node_at(node, "$.id")
        if rule.id in seen:
            problems.append(
                yamlfile.at(
                    source.name, id_node, f"duplicate rule id `{rule.id}`, also in {seen[rule.id]}"
                )
            )
        elif source.stem != rule.id:
            problems.append(
                yamlfile.at(
                    source.name,
                    id_node,
                    f"rule id `{rule.id}` must equal the file name `{source.stem}`",
                )
            )
        seen.setdefault(rule.id, source.name)
        compiled_rules.append(compiled)
    frame = _load_pack(pack, problems) if pack else DEFAULT_PACK
    if problems:
        raise RuleFileError(sorted(problems))
    return RulePack(directory, frame, compiled_rules)


def decode(text: str, name: str, kind: type[T]) -> tuple[T, yaml.Node]:
    """Decode a rule, pack or case file's text into `kind`; faults raise RuleFileError."""
    try:
        return yamlfile.load(text, name, kind)
    except FileProblemsError as exc:
        raise RuleFileError(exc.problems) from None


def _compile(source: SourceFile, rule: Rule, node: object) -> CompiledRule:
    # The text is the file's bytes decoded without newline translation, so this hash is the
    # file's own and stays what it was when the engine read files itself.
    version = hashlib.sha256(source.text.encode()).hexdigest()[:12]
    try:
        return CompiledRule(rule, version)
    except CompileError as exc:
        assert isinstance(node, yaml.Node)
        target = yamlfile.node_at(node, exc.path)
        raise RuleFileError([yamlfile.at(source.name, target, exc.message, exc.offset)]) from None


def _load_pack(source: SourceFile, problems: list[Problem]) -> Pack:
    try:
        pack, node = decode(source.text, source.name, Pack)
    except RuleFileError as exc:
        problems.extend(exc.problems)
        return DEFAULT_PACK
    floors = [band.at_least for band in pack.bands]
    if floors != sorted(floors, reverse=True) or floors[-1] != 0:
        problems.append(
            yamlfile.at(
                source.name,
                yamlfile.node_at(node, "$.bands"),
                "bands must go from the highest `at_least` down to a last band at 0",
            )
        )
    return pack
