"""Errors of the rules service, all under `RulesError`."""

from __future__ import annotations

from services.infra.errors import ChiboError, FileProblemsError


class RulesError(ChiboError):
    """Base of every error the rules service raises on purpose."""


class RuleFileError(RulesError, FileProblemsError):
    """Rule, pack or test files that do not load; `problems` says where and why."""

    status = 422
    title = "Invalid rule files"
