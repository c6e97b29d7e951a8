"""Compiling a rule pack from its files' text: every `<rule_id>.yaml` and an optional `pack.yaml`.

Problems are collected across all files, so one lint run lists every fault at file:line:col.
Reading the files is `services.rules.adapters.files`'s job; the engine only ever sees their text.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePath
from typing import TypeVar

import msgspec
import yaml

from services.infra import yamlfile
from services.infra.errors import FileProblemsError, Problem
from services.rules.domain.compiled import CompiledRule, CompileError
from services.rules.domain.model import Band, Pack, Rule
from services.rules.errors import RuleFileError

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
