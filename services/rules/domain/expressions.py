"""A safe expression language for rule predicates, compiled once at load to plain callables.

Python's own parser reads the text (`ast.parse`, mode `eval`); only a small allow-list of
nodes is accepted — comparisons, `and`/`or`/`not`, arithmetic, `x if c else y`, literals and
the names a context declares. Nothing is ever passed to `eval`, and no attribute, call,
subscript or import can be written, so a rule file cannot reach beyond the facts it judges.

Every expression runs once per meeting judged, so its cost is bounded when it is compiled: its
length, nesting and size, the size of each literal, and arithmetic on numbers only (`'x' * n`
would build a string of any size for every meeting).
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

Getter = Callable[[Any], Any]


MAX_LENGTH = 2000  # characters of an expression
MAX_NODES = 200  # names, literals and operators in one expression
MAX_DEPTH = 32  # operators nested in one another
MAX_TEXT = 200  # characters of a string literal
MAX_ITEMS = 100  # items of a literal list
MAX_NUMBER = 10**12  # magnitude of a number literal


class Name:
    """A name an expression may use: how to read it from a fact, its allowed strings, and
    whether it is a number (arithmetic takes numbers only)."""

    __slots__ = ("choices", "numeric", "read")

    def __init__(
        self, read: Getter, choices: frozenset[str] | None = None, *, numeric: bool = False
    ) -> None:
        self.read = read
        self.choices = choices
        self.numeric = numeric


class ExpressionError(ValueError):
    """A rejected expression; `offset` is the 0-based column of the fault within the text."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def _divide(left: Any, right: Any) -> Any:
    # Contract checks keep rule denominators positive; a zero here must not stop a backtest.
    return left / right if right else math.inf


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: _divide,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda item, group: item in group,
    ast.NotIn: lambda item, group: item not in group,
}


def compile_expression(
    text: str, names: Mapping[str, Name], constants: Mapping[str, float] | None = None
) -> Getter:
    """Compile `text` into a function of one fact, or raise ExpressionError. `constants` are
    names that stand for numbers (a rule's params): each is read as the number it holds."""
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())  # offsets must count the blanks we strip
    if len(stripped) > MAX_LENGTH:
        raise ExpressionError(f"the expression is too long: at most {MAX_LENGTH} characters", lead)
    try:
        tree = ast.parse(stripped, mode="eval")
        _check_size(tree.body)
        body = _Constants(constants).visit(tree.body) if constants else tree.body
        return _Compiler(names, constants or {}).compile(body)
    except SyntaxError as exc:
        raise ExpressionError(
            f"invalid expression: {exc.msg}", lead + (exc.offset or 1) - 1
        ) from None
    except (RecursionError, MemoryError):
        raise ExpressionError(
            f"the expression is nested too deeply (at most {MAX_DEPTH})", lead
        ) from None
    except ExpressionError as exc:
        exc.offset += lead
        raise


def _check_size(root: ast.expr) -> None:
    """Refuse an expression whose nesting, size or literals would cost too much per meeting."""
    count = 0
    todo: list[tuple[ast.AST, int]] = [(root, 1)]
    while todo:
        node, depth = todo.pop()
        count += 1
        at = getattr(node, "col_offset", 0)
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested too deeply (at most {MAX_DEPTH})", at)
        if count > MAX_NODES:
            raise ExpressionError(f"the expression is too large (at most {MAX_NODES} parts)", at)
        match node:
            case ast.Constant(value=str() as text) if len(text) > MAX_TEXT:
                raise ExpressionError(f"a text is too long: at most {MAX_TEXT} characters", at)
            case ast.Constant(value=int() | float() as number) if abs(number) > MAX_NUMBER:
                raise ExpressionError(f"a number is too large: at most {MAX_NUMBER:,}", at)
            case ast.Tuple(elts=items) | ast.List(elts=items) if len(items) > MAX_ITEMS:
                raise ExpressionError(f"a list is too long: at most {MAX_ITEMS} items", at)
        todo.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


class _Constants(ast.NodeTransformer):
    """Each name of a constant replaced by its number, as if the author had typed it."""

    def __init__(self, constants: Mapping[str, float]) -> None:
        self.constants = constants

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id not in self.constants:
            return node
        return ast.copy_location(ast.Constant(self.constants[node.id]), node)


class _Compiler:
    def __init__(self, names: Mapping[str, Name], constants: Mapping[str, float]) -> None:
        self.names, self.constants = names, constants

    def compile(self, node: ast.expr) -> Getter:
        match node:
            case ast.Constant(value=bool() | int() | float() | str() as value):
                return lambda _fact: value
            case ast.Tuple(elts=items) | ast.List(elts=items):
                return self._literal_group(node, items)
            case ast.Name(id=name):
                return self._name(node, name)
            case ast.BoolOp(op=ast.And(), values=values):
                return _all([self.compile(v) for v in values])
            case ast.BoolOp(op=ast.Or(), values=values):
                return _any([self.compile(v) for v in values])
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                inner = self.compile(operand)
                return lambda fact: not inner(fact)
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                self._require_number(operand)
                inner = self.compile(operand)
                return lambda fact: -inner(fact)
            case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
                self._require_number(left)
                self._require_number(right)
                return self._binary(_BINARY[type(op)], left, right)
            case ast.Compare(left=left, ops=ops, comparators=rights):
                return self._compare(left, ops, rights)
            case ast.IfExp(test=test, body=body, orelse=orelse):
                when, then, other = self.compile(test), self.compile(body), self.compile(orelse)
                return lambda fact: then(fact) if when(fact) else other(fact)
        raise ExpressionError(
            f"`{ast.unparse(node)}` is not allowed in a rule expression "
            "(only names, literals, comparisons, and/or/not, + - * / and `x if c else y`)",
            node.col_offset,
        )

    def _require_number(self, node: ast.expr) -> None:
        """Arithmetic takes numbers: a numeric name, a number, or arithmetic of those."""
        match node:
            case ast.Constant(value=bool()):
                pass
            case ast.Constant(value=int() | float()):
                return
            case ast.Name(id=name) if name in self.names and self.names[name].numeric:
                return
            case ast.Name(id=name) if name not in self.names:
                return  # reported as an unknown name when compiled
            case ast.BinOp() | ast.UnaryOp(op=ast.USub()):
                return  # its own operands are checked when it is compiled
            case ast.IfExp(body=body, orelse=orelse):
                self._require_number(body)
                self._require_number(orelse)
                return
        raise ExpressionError(
            f"`{ast.unparse(node)}`: + - * / take numbers only", getattr(node, "col_offset", 0)
        )

    def _name(self, node: ast.expr, name: str) -> Getter:
        known = self.names.get(name)
        if known is None:
            allowed = ", ".join(sorted(self.names))
            params = ", ".join(sorted(self.constants))
            also = f"; params: {params}" if params else ""
            near = difflib.get_close_matches(name, [*self.names, *self.constants], n=1)
            hint = f"did you mean `{near[0]}`? " if near else ""
            raise ExpressionError(
                f"unknown name `{name}`; {hint}known names: {allowed}{also}", node.col_offset
            )
        return known.read

    def _literal_group(self, node: ast.expr, items: list[ast.expr]) -> Getter:
        values = []
        for item in items:
            if not isinstance(item, ast.Constant):
                raise ExpressionError("a list may only hold literals", item.col_offset)
            values.append(item.value)
        group = frozenset(values)
        return lambda _fact: group

    def _binary(self, apply: Callable[[Any, Any], Any], left: ast.expr, right: ast.expr) -> Getter:
        first, second = self.compile(left), self.compile(right)
        return lambda fact: apply(first(fact), second(fact))

    def _compare(self, left: ast.expr, ops: list[ast.cmpop], rights: list[ast.expr]) -> Getter:
        steps = []
        for op, right in zip(ops, rights, strict=True):
            self._check_choices(left, right)
            steps.append((self.compile(left), _COMPARE[type(op)], self.compile(right)))
            left = right
        if len(steps) == 1:
            first, apply, second = steps[0]
            # Filters run on every meeting: the common `name == literal` and `name in (...)`
            # shapes get closures without an operator call.
            if isinstance(rights[0], ast.Constant):
                constant = rights[0].value
                if isinstance(ops[0], ast.Eq):
                    return lambda fact: first(fact) == constant
                return lambda fact: apply(first(fact), constant)
            if isinstance(ops[0], ast.In) and isinstance(rights[0], ast.Tuple | ast.List):
                group = second(None)  # a literal group: the same frozenset for every fact
                return lambda fact: first(fact) in group
            return lambda fact: apply(first(fact), second(fact))
        return lambda fact: all(apply(a(fact), b(fact)) for a, apply, b in steps)

    def _check_choices(self, left: ast.expr, right: ast.expr) -> None:
        # `kind == 'regulr'` would silently match nothing; catch the typo at load instead.
        for name_node, other in ((left, right), (right, left)):
            if not isinstance(name_node, ast.Name) or name_node.id not in self.names:
                continue
            choices = self.names[name_node.id].choices
            if choices is None:
                continue
            literals = other.elts if isinstance(other, ast.Tuple | ast.List) else [other]
            for literal in literals:
                if isinstance(literal, ast.Constant) and literal.value not in choices:
                    raise ExpressionError(
                        f"`{name_node.id}` is never {literal.value!r}; "
                        f"it is one of {', '.join(sorted(choices))}",
                        literal.col_offset,
                    )


def _all(parts: list[Getter]) -> Getter:
    # `and` of two parts, by far the most common, without a generator; both forms give a bool.
    if len(parts) == 2:
        first, second = parts
        return lambda fact: bool(first(fact) and second(fact))
    return lambda fact: all(part(fact) for part in parts)


def _any(parts: list[Getter]) -> Getter:
    if len(parts) == 2:
        first, second = parts
        return lambda fact: bool(first(fact) or second(fact))
    return lambda fact: any(part(fact) for part in parts)
