"""Loading a rules folder: every `<rule_id>.yaml` beside an optional `pack.yaml`.

Problems are collected across all files, so one lint run lists every fault at file:line:col.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TypeVar

import msgspec
import yaml

from services.infra import yamlfile
from services.infra.errors import FileProblemsError, Problem
from services.rules.engine.compiled import CompiledRule, CompileError
from services.rules.engine.model import Band, Pack, Rule
from services.rules.errors import RuleFileError

T = TypeVar("T")

PACK_FILE = "pack.yaml"
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


class RulePack:
    """The compiled rules of one folder, and its score frame."""

    def __init__(self, directory: Path, pack: Pack, rules: list[CompiledRule]) -> None:
        self.directory, self.pack, self.rules = directory, pack, rules
        self.by_id = {rule.id: rule for rule in rules}
        joined = "".join(f"{rule.id}:{rule.version}\n" for rule in rules)
        # The score frame is part of the pack: editing pack.yaml is a new version too.
        content = joined.encode() + msgspec.json.encode(pack)
        self.version = hashlib.sha256(content).hexdigest()[:12]


def load_rules(directory: Path) -> RulePack:
    """Load and compile every rule in `directory`, or raise RuleFileError listing all faults."""
    problems: list[Problem] = []
    rules: list[CompiledRule] = []
    seen: dict[str, Path] = {}
    for path in rule_files(directory):
        try:
            rule, node = decode(path.read_text(encoding="utf-8"), str(path), Rule)
            compiled = _compile(path, rule, node)
        except RuleFileError as exc:
            problems.extend(exc.problems)
            continue
        id_node = yamlfile.node_at(node, "$.id")
        if rule.id in seen:
            problems.append(
                yamlfile.at(
                    str(path), id_node, f"duplicate rule id `{rule.id}`, also in {seen[rule.id]}"
                )
            )
        elif path.stem != rule.id:
            problems.append(
                yamlfile.at(
                    str(path),
                    id_node,
                    f"rule id `{rule.id}` must equal the file name `{path.stem}`",
                )
            )
        seen.setdefault(rule.id, path)
        rules.append(compiled)
    pack = _load_pack(directory, problems)
    if problems:
        raise RuleFileError(sorted(problems))
    return RulePack(directory, pack, rules)


def decode(text: str, name: str, kind: type[T]) -> tuple[T, yaml.Node]:
    """Decode a rule, pack or case file's text into `kind`; faults raise RuleFileError."""
    try:
        return yamlfile.load(text, name, kind)
    except FileProblemsError as exc:
        raise RuleFileError(exc.problems) from None


def rule_files(directory: Path) -> list[Path]:
    """The rule files of a folder: its `*.yaml` files except `pack.yaml` (not sub-folders)."""
    if not directory.is_dir():
        raise RuleFileError([Problem(str(directory), 1, 1, "not a folder of rules")])
    return sorted(p for p in directory.glob("*.yaml") if p.name != PACK_FILE)


def _compile(path: Path, rule: Rule, node: object) -> CompiledRule:
    version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    try:
        return CompiledRule(rule, version)
    except CompileError as exc:
        assert isinstance(node, yaml.Node)
        target = yamlfile.node_at(node, exc.path)
        raise RuleFileError([yamlfile.at(str(path), target, exc.message, exc.offset)]) from None


def _load_pack(directory: Path, problems: list[Problem]) -> Pack:
    path = directory / PACK_FILE
    if not path.exists():
        return DEFAULT_PACK
    try:
        pack, node = decode(path.read_text(encoding="utf-8"), str(path), Pack)
    except RuleFileError as exc:
        problems.extend(exc.problems)
        return DEFAULT_PACK
    floors = [band.at_least for band in pack.bands]
    if floors != sorted(floors, reverse=True) or floors[-1] != 0:
        problems.append(
            yamlfile.at(
                str(path),
                yamlfile.node_at(node, "$.bands"),
                "bands must go from the highest `at_least` down to a last band at 0",
            )
        )
    return pack
