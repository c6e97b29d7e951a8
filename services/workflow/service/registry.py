"""Compiled definitions by name and version: the files' current versions, and older ones on demand.

Each version is compiled once into one shared machine. A case names the version it started with;
a version not in memory (started on another replica, or before the file changed) is read from
`workflow.definitions`, where every version that ever ran is kept.
"""

from __future__ import annotations

from pathlib import Path

from services.infra.database import Connection
from services.workflow.adapters import repository
from services.workflow.adapters.files import definition_files, read_definition
from services.workflow.domain.definition import Definition
from services.workflow.domain.machine import Workflow, parse_definition
from services.workflow.errors import CaseNotFoundError, DefinitionError


class Registry:
    """The compiled workflows this process knows."""

    def __init__(self) -> None:
        self._versions: dict[tuple[str, str], Workflow] = {}
        self._latest: dict[str, Workflow] = {}

    def load_directory(self, directory: Path) -> list[Workflow]:
        """Compile every definition file of `directory` as the current version of its name."""
        problems = []
        for path in definition_files(directory):
            try:
                workflow = Workflow(read_definition(path))
            except DefinitionError as exc:
                problems.extend(exc.problems)
                continue
            self._versions[(workflow.definition.name, workflow.version)] = workflow
            self._latest[workflow.definition.name] = workflow
        if problems:
            raise DefinitionError(sorted(problems))
        return list(self._latest.values())

    async def save(self, conn: Connection) -> None:
        """Keep the current versions' texts, so cases started on them outlive file changes."""
        for workflow in self._latest.values():
            name, version = workflow.definition.name, workflow.version
            await repository.save_definition(conn, name, version, workflow.source, workflow.file)

    def definitions(self) -> dict[str, Definition]:
        """The current version of every workflow, by name."""
        return {name: workflow.definition for name, workflow in self._latest.items()}

    def latest(self, name: str) -> Workflow:
        """The current version of workflow `name`."""
        found = self._latest.get(name)
        if found is None:
            raise CaseNotFoundError(f"no workflow `{name}`; known: {', '.join(self._latest)}")
        return found

    async def get(self, conn: Connection, name: str, version: str) -> Workflow:
        """Workflow `name` at `version`, compiled from the stored text if not in memory yet."""
        found = self._versions.get((name, version))
        if found is None:
            stored = await repository.definition_text(conn, name, version)
            if stored is None:
                raise CaseNotFoundError(f"no stored definition {name} version {version}")
            found = Workflow(parse_definition(stored[0], f"{name}@{version}", stored=True))
            self._versions[(name, version)] = found
        return found
