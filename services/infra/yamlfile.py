"""Reading YAML into strict Structs while keeping every node's position for error messages.

PyYAML composes the node tree (with line and column marks) and constructs plain data from it;
msgspec converts that data into Structs. msgspec names a bad value by a JSON path such as
`$.check.meetings`; the path is walked down the node tree to point at file:line:col.
Timestamps are left as strings so that msgspec, not PyYAML, parses and reports bad dates.
Both services' file formats (rules, workflow definitions) report faults this way.

Chibo's files are written by people and read by a service that must not be stopped by one: a
file is read only from inside its folder, as UTF-8, up to a size; aliases (`*name`) are refused,
so no structure can recurse into itself or multiply (a "billion laughs" of nine aliases nine
deep), and a structure nested deeper than the parser can follow is a fault like any other.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from types import UnionType
from typing import Annotated, TypeVar, Union, get_args, get_origin

import msgspec
import yaml

from services.infra.errors import FileProblemsError, Problem

T = TypeVar("T")

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_AT = re.compile(r"^(?P<message>.*?) - at `(?P<path>[^`]*)`(?: in `(?P<within>[^`]*)`)?$", re.S)
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]*)`")


MAX_FILE_BYTES = 1024 * 1024  # a rule or a definition is a few kilobytes


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            alias = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "aliases (`*name`) are not allowed in Chibo's files", alias.start_mark
            )
        node: yaml.Node | None = super().compose_node(parent, index)
        return node


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(
    text: str, name: str, kind: type[T], *, duplicate_keys: bool = False
) -> tuple[T, yaml.Node]:
    """Decode YAML `text` into `kind`; faults raise FileProblemsError at `name`:line:col. Two
    equal keys in one mapping are a fault unless `duplicate_keys` (then the last one wins)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise FileProblemsError([Problem(name, 1, 1, "the file is empty")])
        if not duplicate_keys:
            _refuse_duplicate_keys(name, node)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise FileProblemsError(
            [Problem(name, line, column, f"invalid YAML: {exc.problem}")]
        ) from None
    except RecursionError:
        raise FileProblemsError([Problem(name, 1, 1, "the YAML is nested too deeply")]) from None
    finally:
        loader.dispose()
    problems = _faults(name, node, data, kind, "$")
    if problems:
        raise FileProblemsError(sorted(problems))
    try:  # what no field shows alone: a rule across fields (`__post_init__`)
        return msgspec.convert(data, kind), node
    except msgspec.ValidationError as exc:
        raise FileProblemsError([validation_problem(name, node, str(exc))]) from None


def _faults(name: str, root: yaml.Node, data: object, kind: object, path: str) -> list[Problem]:
    """Every fault of `data` as `kind`, field by field: each unknown key (with the nearest known
    one), each missing field, each bad value, so that one reading lists them all. A value is
    checked whole by msgspec once no Struct inside it is left to walk into."""
    struct = _struct_of(kind, data)
    if struct is None or not isinstance(data, dict):
        try:
            msgspec.convert(data, kind)
        except msgspec.ValidationError as exc:
            return [validation_problem(name, root, _within(str(exc), path))]
        return []
    fields = {f.encode_name: f for f in msgspec.structs.fields(struct)}
    config = struct.__struct_config__
    problems: list[Problem] = []
    mapping = node_at(root, path)
    where = path.removeprefix("$").removeprefix(".")
    prefix = f"{where}: " if where else ""
    for key, value in data.items():
        field = fields.get(key)
        if field is not None:
            problems += _faults(name, root, value, field.type, f"{path}.{key}")
        elif key != config.tag_field and config.forbid_unknown_fields:
            near = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.6)
            hint = f"; did you mean `{near[0]}`?" if near else ""
            node = _key_node(mapping, str(key)) or mapping
            problems.append(at(name, node, f"{prefix}Object contains unknown field `{key}`{hint}"))
    for missing in (k for k, f in fields.items() if f.required and k not in data):
        problems.append(at(name, mapping, f"{prefix}Object missing required field `{missing}`"))
    return problems


def _struct_of(kind: object, data: object) -> type[msgspec.Struct] | None:
    """The Struct `kind` stands for with this `data` (a tagged union's member by its tag), or
    None when it is no Struct or the data does not say which."""
    if get_origin(kind) is Annotated:
        return _struct_of(get_args(kind)[0], data)
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        return kind
    members = [k for k in get_args(kind) if isinstance(k, type) and issubclass(k, msgspec.Struct)]
    if get_origin(kind) not in (Union, UnionType) or not members or not isinstance(data, dict):
        return None
    tag_field = members[0].__struct_config__.tag_field
    if tag_field is None:
        return members[0] if len(members) == 1 else None
    chosen = [m for m in members if m.__struct_config__.tag == data.get(tag_field)]
    return chosen[0] if chosen else None


def _within(text: str, path: str) -> str:
    """A msgspec message about a value at `path`, its own path (from `$`) made the file's."""
    match = _AT.match(text)
    if match is None:
        return f"{text} - at `{path}`"
    inner = match["path"].removeprefix("$")
    within = f" in `{path}{match['within'].removeprefix('$')}`" if match["within"] else ""
    return f"{match['message']} - at `{path}{inner}`{within}"


def read_text(path: Path, folder: Path) -> str:
    """The UTF-8 text of the file at `path` in `folder`, line endings as they are; a link that
    leads out of the folder, a file too large, or bytes that are not UTF-8 raise
    FileProblemsError at the place."""
    name = str(path)
    target = path.resolve()
    if not target.is_relative_to(folder.resolve()):
        message = f"a link to {target}, outside {folder}: only the folder's own files are read"
        raise FileProblemsError([Problem(name, 1, 1, message)])
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        message = f"the file is {len(data)} bytes; at most {MAX_FILE_BYTES} are read"
        raise FileProblemsError([Problem(name, 1, 1, message)])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        message = f"not UTF-8: byte 0x{data[exc.start]:02x} (save the file as UTF-8)"
        raise FileProblemsError([Problem(name, line, column, message)]) from None


def validation_problem(name: str, root: yaml.Node, text: str) -> Problem:
    """A msgspec validation message turned into a Problem at the node its path names."""
    match = _AT.match(text)
    if match is None:
        return Problem(name, root.start_mark.line + 1, root.start_mark.column + 1, text)
    message, path = match["message"], match["within"] or match["path"]
    node = node_at(root, path)
    unknown = _UNKNOWN_FIELD.search(message)
    bad_key = re.search(r"'([^']*)'$", message) if match["within"] else None
    if unknown or bad_key:  # point at the offending key rather than its mapping
        key = unknown[1] if unknown else bad_key[1] if bad_key else ""
        node = _key_node(node, key) or node
    where = path.removeprefix("$").removeprefix(".") or "the document"
    return at(name, node, f"{where}: {message}")


def at(name: str, node: yaml.Node, message: str, offset: int = 0) -> Problem:
    """A Problem at `node`, `offset` characters into its scalar text (after any opening quote)."""
    quote = 1 if isinstance(node, yaml.ScalarNode) and node.style in ("'", '"') else 0
    mark = node.start_mark
    return Problem(name, mark.line + 1, mark.column + 1 + quote + offset, message)


def node_at(root: yaml.Node, path: str) -> yaml.Node:
    """The deepest node along the JSON `path` (e.g. `$.cases[0].events`) that exists."""
    node = root
    for key, index in _STEP.findall(path.removeprefix("$")):
        if key and isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == key), None)
        elif index.isdigit() and isinstance(node, yaml.SequenceNode):
            found = node.value[int(index)] if int(index) < len(node.value) else None
        else:
            found = None
        if found is None:
            return node
        node = found
    return node


def _key_node(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((k for k, _ in node.value if k.value == key), None)
    return None


def _refuse_duplicate_keys(name: str, node: yaml.Node) -> None:
    # PyYAML keeps the last of two equal keys silently; an author would never notice.
    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise FileProblemsError([at(name, key, f"duplicate key `{key.value}`")])
                seen.add(key.value)
            _refuse_duplicate_keys(name, value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(name, item)
