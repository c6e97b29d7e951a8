"""The workflow folder on disk: one definition per `<name>.yaml`, and the findings policy
(`policy.yaml`). What the texts mean is the domain's; this module only reads them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from services.infra import yamlfile
from services.infra.errors import FileProblemsError
from services.workflow.domain.definition import Definition
from services.workflow.domain.machine import Loaded, parse_definition
from services.workflow.domain.policy import Policy, parse_policies
from services.workflow.errors import DefinitionError

POLICY_FILE = "policy.yaml"


def definition_files(directory: Path) -> list[Path]:
    """The definition files of a folder: its `*.yaml` files except the policy."""
    return sorted(p for p in directory.glob("*.yaml") if p.name != POLICY_FILE)


def read_definition(path: Path) -> Loaded:
    """Load the definition file at `path`; its stem must equal the definition's name."""
    return parse_definition(_read(path), str(path), stem=path.stem)


def read_policies(directory: Path, definitions: Mapping[str, Definition]) -> list[Policy]:
    """The folder's findings policies (none without a `policy.yaml`), checked against the
    definitions they propose cases in."""
    path = directory / POLICY_FILE
    if not path.exists():
        return []
    return parse_policies(_read(path), str(path), definitions)


def _read(path: Path) -> str:
    try:
        return yamlfile.read_text(path, path.parent)
    except FileProblemsError as exc:
        raise DefinitionError(exc.problems) from None
