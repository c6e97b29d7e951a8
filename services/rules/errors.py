"""Errors of the rules service, all under `RulesError`."""

from __future__ import annotations

from services.infra.errors import ChiboError, FileProblemsError


class RulesError(ChiboError):
    """Base of every error the rules service raises on purpose."""


class RuleFileError(RulesError, FileProblemsError):
    """Rule, pack or test files that do not load; `problems` says where and why."""

    status = 422
    title = "Invalid rule files"


class JudgingFailedError(RulesError):
    """A rule pack raised while judging a cell's facts (a fault lint cannot see: a comparison
    of a number with a list, say); names the cell and the fault."""

    status = 422
    title = "The rule pack fails on stored facts"

    def __init__(self, cell_id: str, fault: Exception) -> None:
        super().__init__(f"judging cell `{cell_id}` failed: {type(fault).__name__}: {fault}")
        self.cell_id = cell_id
