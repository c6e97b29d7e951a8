"""Errors of the rules service, all under `RulesError`."""

from __future__ import annotations

import msgspec

from services.infra.errors import ChiboError


class RulesError(ChiboError):
    """Base of every error the rules service raises on purpose."""


class Problem(msgspec.Struct, frozen=True, order=True):
    """One fault in a file, where an editor can jump to it."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class RuleFileError(RulesError):
    """Rule, pack or test files that do not load; `problems` says where and why."""

    status = 422
    title = "Invalid rule files"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
