"""The rule pack: rule files' text compiled into rules ready to judge, with the pack's score frame.

Every `<rule_id>.yaml` and an optional `pack.yaml` are decoded into strict Structs, each rule's
expressions turned into callables and its judge chosen. Problems are collected across all files,
so one lint run lists every fault at file:line:col. Reading the files from disk is
`services.rules.adapters.files`'s job: the pack only ever sees their text.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from typing import Any, TypeVar

import msgspec
import yaml

from services.contracts.events import CellRegistered
from services.contracts.findings import Text
from services.contracts.wording import LANGUAGES, Language
from services.infra import yamlfile
from services.infra.errors import FileProblemsError, Problem
from services.rules.domain import judges
from services.rules.domain.expressions import ExpressionError, Getter, Name, compile_expression
from services.rules.domain.facts import CELL_NAMES, MEETING_NAMES
from services.rules.domain.judges import JudgedRule, Verdicts
from services.rules.domain.model import (
    AuthoredText,
    Band,
    CountCheck,
    CoverageCheck,
    GapCheck,
    MeetingCheck,
    MemberCheck,
    Pack,
    Rule,
)
from services.rules.domain.score import Cost
from services.rules.domain.texts import Kind, RuleTexts, Template, TemplateError, typed_numbers
from services.rules.errors import RuleFileError

_COMMON: dict[str, Kind] = {"cell": "text", "period": "text", "observed": "number"}
PLACEHOLDERS: dict[type, dict[str, Kind]] = {
    CountCheck: _COMMON,
    CoverageCheck: {**_COMMON, "observed": "groups", "required": "groups", "missing": "groups"},
    MeetingCheck: {**_COMMON, "meeting": "text", "date": "text"},
    GapCheck: {**_COMMON, "since": "text", "until": "text", "days": "number"},
    MemberCheck: {**_COMMON, "member": "text", "year": "text"},
}
"""The `{names}` a rule's message and observation may use, by check kind, and what each holds;
every param of the rule besides (a number)."""

# What each kind of check observed, in neutral words, when a rule does not say it itself.
_OBSERVATIONS: dict[str, AuthoredText] = {
    "count": AuthoredText(vi="{observed} buổi được tính", en="meetings counted: {observed}"),
    "coverage": AuthoredText(
        vi="các nhóm nội dung đã có: {observed}", en="topic groups covered: {observed}"
    ),
    "meeting": AuthoredText(vi="ghi nhận: {observed}", en="observed: {observed}"),
    "gap": AuthoredText(
        vi="{days:days} không có buổi nào được tính", en="{days:days} without a counted meeting"
    ),
    "distinct_months": AuthoredText(
        vi="vắng trong {observed:months}", en="absent in {observed:months}"
    ),
    "longest_run": AuthoredText(
        vi="vắng {observed} buổi liên tiếp", en="meetings missed in a row: {observed}"
    ),
}
# A pass names what was judged, then says what was found.
_PASSED: dict[str, AuthoredText] = {
    "period": AuthoredText(
        vi="{period}: đạt; {observation}.", en="{period}: passed; {observation}."
    ),
    "meeting": AuthoredText(
        vi="{meeting}: đạt; {observation}.", en="{meeting}: passed; {observation}."
    ),
    "member": AuthoredText(
        vi="{year}, đảng viên {member}: đạt; {observation}.",
        en="{year}, member {member}: passed; {observation}.",
    ),
}


class CompileError(ValueError):
    """A rule that decodes but cannot be compiled; `path` is the JSON path of the bad field."""

    def __init__(self, path: str, message: str, offset: int = 0) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.message, self.offset = path, message, offset


class RuleCompileError(ValueError):
    """Every fault found compiling one rule."""

    def __init__(self, errors: list[CompileError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


class _Faults:
    """The faults of one rule, collected so that one lint lists them all: each step that fails
    is recorded and stands in with a harmless value, and compiling goes on."""

    def __init__(self) -> None:
        self.errors: list[CompileError] = []

    def attempt(self, make: Callable[[], T], instead: T) -> T:
        try:
            return make()
        except CompileError as exc:
            self.errors.append(exc)
            return instead


def _never(_fact: Any) -> Any:
    return False


NEVER: Getter = _never
"""What stands in for an expression that failed to compile."""


class CompiledRule(JudgedRule):
    """A rule ready to judge cells: its params checked, its expressions and texts compiled and
    its judge chosen, once at load, then shared by every evaluation. `title` and `describe`
    are the rule's own texts with its params filled in."""

    def __init__(self, rule: Rule, version: str) -> None:
        faults = _Faults()
        params = faults.attempt(lambda: _params(rule), dict(rule.params))
        super().__init__(rule, version, _texts(rule, params, faults))
        self.params = params
        applies = rule.applies_to
        self.applies: Getter = (
            faults.attempt(lambda: _expression("$.applies_to", applies, CELL_NAMES, params), NEVER)
            if applies
            else lambda _cell: True
        )
        self.title = _fixed(rule.title, "$.title", params, faults)
        self.describe = (
            _fixed(rule.describe, "$.describe", params, faults) if rule.describe else None
        )
        self.judge: Verdicts = _judge(rule, params, self.describe or self.title, faults)
        if faults.errors:
            raise RuleCompileError(faults.errors)

    def applies_to(self, cell: CellRegistered) -> bool:
        """Whether the rule judges `cell` at all."""
        return bool(self.applies(cell))


def meeting_expression(
    path: str, text: str, params: Mapping[str, float] | None = None
) -> tuple[str, Getter]:
    """A meeting predicate compiled, with a key that is equal for equal predicates."""
    test = _expression(path, text, MEETING_NAMES, params)
    key = ast.dump(ast.parse(text.strip(), mode="eval"))
    # A param stands for its number: the same text with other params is another filter.
    used = sorted((name, value) for name, value in (params or {}).items() if name in text)
    return (f"{key}{used}" if used else key), test


def _expression(
    path: str, text: str, names: dict[str, Name], params: Mapping[str, float] | None = None
) -> Getter:
    try:
        return compile_expression(text, names, params)
    except ExpressionError as exc:
        raise CompileError(path, exc.message, exc.offset) from None


def _params(rule: Rule) -> dict[str, float]:
    for name in rule.params:
        if name in MEETING_NAMES or name in CELL_NAMES or name in _RESERVED:
            raise CompileError(
                f"$.params.{name}", f"param `{name}` would hide the name of a fact or a text"
            )
    return dict(rule.params)


_RESERVED = frozenset().union(*PLACEHOLDERS.values()) | {"observation"}


def _threshold(path: str, value: int | str, params: Mapping[str, float], least: int) -> int:
    """A check's threshold: the number given, or the whole number the named param holds."""
    if isinstance(value, str):
        if value not in params:
            known = ", ".join(sorted(params)) or "none"
            raise CompileError(path, f"no param `{value}`; the rule's params: {known}")
        held = params[value]
        if held != int(held):
            raise CompileError(path, f"param `{value}` holds {held}; this needs a whole number")
        value = int(held)
    if value < least:
        raise CompileError(path, f"must be at least {least}, not {value}")
    return value


def _judge(rule: Rule, params: Mapping[str, float], describe: Text, faults: _Faults) -> Verdicts:
    def expression(path: str, text: str) -> Getter:
        return faults.attempt(lambda: _expression(path, text, MEETING_NAMES, params), NEVER)

    def threshold(path: str, value: int | str, least: int) -> int:
        return faults.attempt(lambda: _threshold(path, value, params, least), least)

    nothing: tuple[str, Getter] = ("", NEVER)
    meetings = faults.attempt(
        lambda: meeting_expression("$.check.meetings", rule.check.meetings, params), nothing
    )
    match rule.check:
        case CountCheck() as check:
            least = threshold("$.check.at_least", check.at_least, 1)
            return judges.periodic(check, meetings, least)
        case CoverageCheck() as check:
            return judges.periodic(check, meetings)
        case MeetingCheck(observe=observe_text) as check:
            require = expression("$.check.require", check.require)
            observe = expression("$.check.observe", observe_text) if observe_text else None
            expected = check.expected or describe.en
            return judges.each_meeting(meetings, require, observe, expected[:200])
        case GapCheck() as check:
            limit = threshold("$.check.at_most_days", check.at_most_days, 1)
            return judges.gaps(check, meetings, limit)
        case MemberCheck() as check:
            limit = threshold("$.check.at_most", check.at_most, 0)
            return judges.members(check, meetings, limit)
    raise AssertionError(rule.check)  # the Check union is exhaustive


def _template(
    text: str,
    path: str,
    offered: Mapping[str, Kind],
    params: Mapping[str, float],
    faults: _Faults,
) -> Template:
    """The text's template; its faults recorded (a text standing in for it if it has any)."""
    try:
        template = Template(text, {**offered, **dict.fromkeys(params, "number")})
    except TemplateError as exc:
        faults.errors.append(CompileError(path, exc.message, exc.offset))
        return Template("-", {})
    for typed, name in typed_numbers(template, params):
        ratio = 0 < params[name] < 1
        write = f"`{{{name}:percent}}`" if ratio else f"`{{{name}}}`"
        faults.errors.append(
            CompileError(
                path,
                f"`{typed}` is what param `{name}` holds: write {write}, so the text follows "
                "the param",
                max(text.find(typed), 0),
            )
        )
    return template


def _fixed(text: AuthoredText, path: str, params: Mapping[str, float], faults: _Faults) -> Text:
    """A text that only params fill (a title, a description), filled once."""
    vi = _template(text.vi, f"{path}.vi", {}, params, faults).render(dict(params), "vi")
    en = _template(text.en, f"{path}.en", {}, params, faults).render(dict(params), "en")
    return Text(vi=vi, en=en)


def _texts(rule: Rule, params: Mapping[str, float], faults: _Faults) -> RuleTexts:
    """The rule's message and its pass wording (subject, then observation), both languages."""
    offered = PLACEHOLDERS[type(rule.check)]
    check = rule.check
    own = check.measure if isinstance(check, MemberCheck) else check.__struct_config__.tag
    observation = rule.observation or _OBSERVATIONS[str(own)]
    subject = {MeetingCheck: "meeting", MemberCheck: "member"}.get(type(check), "period")
    message: dict[Language, Template] = {}
    passed: dict[Language, Template] = {}
    for language in LANGUAGES:
        message[language] = _template(
            getattr(rule.message, language), f"$.message.{language}", offered, params, faults
        )
        seen = getattr(observation, language)
        path = f"$.observation.{language}"
        own_faults = len(faults.errors)
        _template(seen, path, offered, params, faults)  # checked where the author wrote it
        wording = getattr(_PASSED[subject], language).replace("{observation}", seen)
        if len(faults.errors) > own_faults:
            wording = "-"  # its faults are told once, at the observation
        passed[language] = _template(wording, path, offered, params, faults)
    return RuleTexts(message, passed, params)


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
        self.costs = {r.id: Cost(r.rule.weight, r.rule.max_weight_per_year) for r in rules}
        """What each rule's violations cost in the annual score."""
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
    for compiled in compiled_rules:
        compiled.judged_from = frame.judged_from
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
    except RuleCompileError as exc:
        assert isinstance(node, yaml.Node)
        raise RuleFileError(
            [
                yamlfile.at(source.name, yamlfile.node_at(node, e.path), e.message, e.offset)
                for e in exc.errors
            ]
        ) from None


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
